/**
 * The Reconcile function against a real warehouse: a DuckDB file loaded by the loader and modelled by dbt
 * from Bronze objects in the local S3 server. Each test corrupts a copy of the warehouse in the way one
 * check exists for, so that every total stays as it was, and sees the function fail with
 * ReconciliationError naming what differs; on the clean warehouse every check passes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReconciliationError, type ReconcileResult } from '../../lambdas/reconcile/reconcile.ts';
import { reconcileOrFail } from '../../lambdas/reconcile/handler.ts';
import type { DuckDbWarehouse } from '../../lambdas/shared/warehouse/duckdb.ts';
import { buildDataset, type Dataset } from './dataset.ts';

let data: Dataset;

beforeAll(async () => {
  data = await buildDataset({ events: 4_000, hours: 2, seed: 11 });
}, 120_000);
afterAll(async () => {
  await data?.close();
});

async function reconcile(wh: DuckDbWarehouse): Promise<ReconcileResult> {
  return reconcileOrFail(
    { s3: data.s3, bucket: data.bucket, warehouse: wh },
    { runId: 'test', window: data.window, runStartedAt: new Date().toISOString() },
  );
}

/** Runs the function and returns its ReconciliationError (failing the test when there is none). */
async function failure(wh: DuckDbWarehouse): Promise<ReconciliationError> {
  const err = await reconcile(wh).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ReconciliationError);
  expect((err as Error).name).toBe('ReconciliationError');
  return err as ReconciliationError;
}

async function withCopy<T>(fn: (wh: DuckDbWarehouse) => Promise<T>): Promise<T> {
  const wh = await data.copyWarehouse();
  try {
    return await fn(wh);
  } finally {
    await wh.close();
  }
}

async function scalar(wh: DuckDbWarehouse, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await wh.query<{ n: number }>(sql, params);
  return Number(row?.n ?? 0);
}

/** Two objects of the same hour, each with more than one row. */
async function twoObjectsOfOneHour(wh: DuckDbWarehouse): Promise<[string, string]> {
  const files = await wh.query<{ source_file: string }>(
    `select source_file from bronze.listening_events group by source_file having count(*) > 1 order by source_file`,
  );
  for (let i = 0; i + 1 < files.length; i++) {
    const a = files[i]!.source_file;
    const b = files[i + 1]!.source_file;
    if (a.slice(0, a.lastIndexOf('/')) === b.slice(0, b.lastIndexOf('/'))) return [a, b];
  }
  throw new Error('the dataset has no hour with two objects');
}

describe('reconcile, on a clean warehouse', () => {
  it('passes every check, with exact counts', async () => {
    const result = await withCopy((wh) => reconcile(wh));
    expect(result.ok).toBe(true);
    expect(result.checks.map((c) => [c.name, c.ok])).toEqual([
      ['bronze rows = object records, per object', true],
      ['warehouse rows whose Bronze object does not exist', true],
      ['silver event ids = distinct bronze event ids', true],
      ['gold events per hour = silver events per hour', true],
    ]);
    expect(result.counts.loaded).toBe(result.counts.landed);
    expect(result.counts.loaded).toBeGreaterThan(result.counts.modelled);
    expect(result.counts.quarantined).toBeGreaterThan(0);
  });
});

describe('reconcile fails the run, naming what differs', () => {
  it('when a row is moved from one Bronze object to another of the same hour (every total unchanged)', async () => {
    await withCopy(async (wh) => {
      // Prepare: the last row of A now names B.
      const [a, b] = await twoObjectsOfOneHour(wh);
      const count = 'select count(*) as n from bronze.listening_events where source_file = $1';
      const [na, nb] = [await scalar(wh, count, [a]), await scalar(wh, count, [b])];
      await wh.query(
        `update bronze.listening_events set source_file = $2
          where source_file = $1 and source_row = (select max(source_row) from bronze.listening_events where source_file = $1)`,
        [a, b],
      );

      // Act
      const err = await failure(wh);

      // Assess: both objects are named, with their records and rows; the totals alone agree.
      expect(err.message).toMatch(/^reconciliation failed: bronze rows = object records, per object: /);
      expect(err.message).toContain(`(2 of `);
      expect(err.message).toContain(`${a} (${na} records, ${na - 1} rows)`);
      expect(err.message).toContain(`${b} (${nb} records, ${nb + 1} rows)`);
      const [, expected, actual] = /expected (\d+), got (\d+)/.exec(err.message) ?? [];
      expect(expected).toBe(actual);
      expect(err.message).not.toContain('silver event ids');
    });
  });

  it('when warehouse rows name an object the object store does not hold', async () => {
    await withCopy(async (wh) => {
      // Prepare: a copy of an object's rows under a key of the same hour that does not exist, and one row
      // of the window attributed to an object of another day that does not exist either.
      const [a] = await twoObjectsOfOneHour(wh);
      const ghost = `${a.slice(0, a.lastIndexOf('/'))}/spotify-events-9-0-99.ndjson.gz`;
      const elsewhere = 'bronze/date=2020-01-01/hour=00/spotify-events-9-0-0.ndjson.gz';
      await wh.query(
        `insert into bronze.listening_events select * replace ($2 as source_file)
           from bronze.listening_events where source_file = $1`,
        [a, ghost],
      );
      await wh.query(
        `insert into bronze.listening_events select * replace ($2 as source_file)
           from bronze.listening_events where source_file = $1 and source_row = 1`,
        [a, elsewhere],
      );
      const rows = await scalar(
        wh,
        'select count(*) as n from bronze.listening_events where source_file = $1',
        [a],
      );

      // Act
      const err = await failure(wh);

      // Assess: only the orphan check fails (every object of the store holds its lines; Silver dedups).
      expect(err.message).toMatch(
        /^reconciliation failed: warehouse rows whose Bronze object does not exist: expected 0, got \d+/,
      );
      expect(err.message).toContain(`${ghost} (${rows} rows)`);
      expect(err.message).toContain(`${elsewhere} (1 rows)`);
      expect(err.message).not.toContain('per object');
    });
  });

  it('when a Silver event is missing while another is doubled (the row count unchanged)', async () => {
    await withCopy(async (wh) => {
      // Prepare
      const ids = await wh.query<{ event_id: string }>(
        'select event_id from silver.stg_spotify__events order by event_id limit 2',
      );
      const [gone, twice] = ids.map((r) => r.event_id);
      const before = await scalar(wh, 'select count(*) as n from silver.stg_spotify__events');
      await wh.query('delete from silver.stg_spotify__events where event_id = $1', [gone]);
      await wh.query(
        'insert into silver.stg_spotify__events select * from silver.stg_spotify__events where event_id = $1',
        [twice],
      );
      expect(await scalar(wh, 'select count(*) as n from silver.stg_spotify__events')).toBe(before);

      // Act
      const err = await failure(wh);

      // Assess
      expect(err.message).toMatch(/silver event ids = distinct bronze event ids: expected (\d+), got \1 /);
      expect(err.message).toContain(`1 missing from silver: ${gone}`);
      expect(err.message).toContain(`1 more than once in silver: ${twice} (2 times)`);
    });
  });

  it('when a Silver event is not in Bronze', async () => {
    await withCopy(async (wh) => {
      await wh.query(
        `insert into silver.stg_spotify__events select * replace ('00000000-0000-4000-8000-000000000000' as event_id)
           from silver.stg_spotify__events where event_id = (select min(event_id) from silver.stg_spotify__events)`,
      );
      const err = await failure(wh);
      expect(err.message).toContain('1 in silver, not in bronze: 00000000-0000-4000-8000-000000000000');
    });
  });

  it('when a Gold hour is off by one (and another off the other way, so the sum agrees)', async () => {
    await withCopy(async (wh) => {
      // Prepare
      const hours = await wh.query<{ hour_start: string; events: number }>(
        'select hour_start, events from gold.plays_per_hour order by hour_start',
      );
      expect(hours.length).toBeGreaterThanOrEqual(2);
      const [h0, h1] = hours;
      await wh.query(
        `update gold.plays_per_hour set events = events + 1 where hour_start = cast($1 as timestamp)`,
        [h0!.hour_start.replace('T', ' ').replace('Z', '')],
      );
      await wh.query(
        `update gold.plays_per_hour set events = events - 1 where hour_start = cast($1 as timestamp)`,
        [h1!.hour_start.replace('T', ' ').replace('Z', '')],
      );

      // Act
      const err = await failure(wh);

      // Assess
      expect(err.message).toMatch(
        /gold events per hour = silver events per hour: expected (\d+), got \1 \(2 of 2 hours differ: /,
      );
      expect(err.message).toContain(
        `${h0!.hour_start} (silver ${Number(h0!.events)}, gold ${Number(h0!.events) + 1})`,
      );
      expect(err.message).toContain(
        `${h1!.hour_start} (silver ${Number(h1!.events)}, gold ${Number(h1!.events) - 1})`,
      );
    });
  });
});
