/**
 * The Reconcile function against a real warehouse, on every engine that runs here: each test corrupts a
 * copy of a clean warehouse (loaded from Bronze objects in the local S3 server, Silver and Gold built on it)
 * in the way one check exists for, so that every total stays as it was, and sees the function fail with
 * ReconciliationError naming what differs; on the clean warehouse every check passes. The corruptions are
 * portable SQL, as the function's own queries are.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { reconcileOrFail } from '../../lambdas/reconcile/reconcile.ts';
import {
  RECONCILE_CHECKS,
  ReconciliationError,
  type ReconcileResult,
} from '../../lambdas/reconcile/reconcile.ts';
import type { RunWindow } from '../../lambdas/core/run-summary.ts';
import { BRONZE_COLUMNS, type Warehouse } from '../../lambdas/core/warehouse/types.ts';

export interface ReconcileFixture {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly window: RunWindow;
  /** A fresh copy of the clean warehouse, opened. */
  copyWarehouse(): Promise<Warehouse>;
}

export function reconcileContract(fixture: () => ReconcileFixture): void {
  async function reconcile(wh: Warehouse): Promise<ReconcileResult> {
    const f = fixture();
    return reconcileOrFail(
      { s3: f.s3, bucket: f.bucket, warehouse: wh },
      { runId: 'test', window: f.window, runStartedAt: new Date().toISOString() },
    );
  }

  /** Runs the function and returns its error's message, expecting a ReconciliationError. */
  async function failure(wh: Warehouse): Promise<string> {
    const err = await reconcile(wh).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ReconciliationError);
    expect((err as Error).name).toBe('ReconciliationError');
    return (err as Error).message;
  }

  async function withCopy<T>(fn: (wh: Warehouse) => Promise<T>): Promise<T> {
    const wh = await fixture().copyWarehouse();
    try {
      return await fn(wh);
    } finally {
      await wh.close();
    }
  }

  describe('reconcile, on a clean warehouse', () => {
    it('passes every check, with exact counts', async () => {
      const result = await withCopy((wh) => reconcile(wh));
      expect(result.ok).toBe(true);
      expect(result.checks.map((c) => c.name)).toEqual(RECONCILE_CHECKS.map((c) => c.name));
      expect(result.checks.filter((c) => !c.ok)).toEqual([]);
      expect(result.checks.map((c) => c.name)).toEqual(
        expect.arrayContaining([
          'bronze rows = object records, per object',
          'warehouse rows whose Bronze object does not exist',
          'silver event ids = distinct bronze event ids',
          'gold events per hour = silver events per hour',
        ]),
      );
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
            where source_file = $1
              and source_row = (select max(source_row) from bronze.listening_events where source_file = $1)`,
          [a, b],
        );

        // Act
        const message = await failure(wh);

        // Assess: both objects are named, with their records and rows; the totals alone agree.
        expect(message).toMatch(/^reconciliation failed: bronze rows = object records, per object: /);
        expect(message).toContain(`(2 of `);
        expect(message).toContain(`${a} (${na} records, ${na - 1} rows)`);
        expect(message).toContain(`${b} (${nb} records, ${nb + 1} rows)`);
        const [, expected, actual] = /expected (\d+), got (\d+)/.exec(message) ?? [];
        expect(expected).toBe(actual);
        expect(message).not.toContain('silver event ids');
      });
    });

    it('when a row of an object is there twice and another is missing (the count unchanged)', async () => {
      await withCopy(async (wh) => {
        // Prepare: line 1 of A stands in for A's last line.
        const [a] = await twoObjectsOfOneHour(wh);
        const n = await scalar(
          wh,
          'select count(*) as n from bronze.listening_events where source_file = $1',
          [a],
        );
        await wh.query(
          `update bronze.listening_events set source_row = 1
            where source_file = $1
              and source_row = (select max(source_row) from bronze.listening_events where source_file = $1)`,
          [a],
        );

        // Act
        const message = await failure(wh);

        // Assess
        expect(message).toContain(`${a} (${n} records, ${n} rows but ${n - 1} distinct lines 1..${n - 1})`);
      });
    });

    it('when warehouse rows name an object the object store does not hold', async () => {
      await withCopy(async (wh) => {
        // Prepare: a copy of an object's rows under a key of the same hour that does not exist, and one row
        // of the window attributed to an object of another day that does not exist either.
        const [a] = await twoObjectsOfOneHour(wh);
        const ghost = `${a.slice(0, a.lastIndexOf('/'))}/spotify-events-9-0-99.ndjson.gz`;
        const elsewhere = 'bronze/date=2020-01-01/hour=00/spotify-events-9-0-0.ndjson.gz';
        await copyRows(wh, 'bronze', 'listening_events', 'source_file', `source_file = $1`, [a], ghost);
        await copyRows(
          wh,
          'bronze',
          'listening_events',
          'source_file',
          `source_file = $1 and source_row = 1`,
          [a],
          elsewhere,
        );
        const rows = await scalar(
          wh,
          'select count(*) as n from bronze.listening_events where source_file = $1',
          [a],
        );

        // Act
        const message = await failure(wh);

        // Assess: only the orphan check fails (every object of the store holds its lines; Silver dedups).
        expect(message).toMatch(
          /^reconciliation failed: warehouse rows whose Bronze object does not exist: expected 0, got \d+/,
        );
        expect(message).toContain(`${ghost} (${rows} rows)`);
        expect(message).toContain(`${elsewhere} (1 rows)`);
        expect(message).not.toContain('per object');
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
        const message = await failure(wh);

        // Assess
        expect(message).toMatch(/silver event ids = distinct bronze event ids: expected (\d+), got \1 /);
        expect(message).toContain(`1 missing from silver: ${gone}`);
        expect(message).toContain(`1 more than once in silver: ${twice} (2 times)`);
      });
    });

    it('when a Silver event is not in Bronze', async () => {
      await withCopy(async (wh) => {
        const stranger = '00000000-0000-4000-8000-000000000000';
        await copyRows(
          wh,
          'silver',
          'stg_spotify__events',
          'event_id',
          'event_id = (select min(event_id) from silver.stg_spotify__events)',
          [],
          stranger,
        );
        const message = await failure(wh);
        expect(message).toContain(`1 in silver, not in bronze: ${stranger}`);
      });
    });

    it('when a Gold hour is off by one (and another off the other way, so the sum agrees)', async () => {
      await withCopy(async (wh) => {
        // Prepare
        const hours = await wh.query<{ hour_start: string; events: number }>(
          'select hour_start, events from gold.plays_per_hour order by hour_start',
        );
        expect(hours.length).toBeGreaterThanOrEqual(2);
        const [h0, h1] = [hours[0]!, hours[1]!];
        const shift = (h: { hour_start: string }, by: number) =>
          wh.query(
            `update gold.plays_per_hour set events = events + ${by} where hour_start = cast($1 as timestamp)`,
            [h.hour_start.replace('T', ' ').replace('Z', '')],
          );
        await shift(h0, 1);
        await shift(h1, -1);

        // Act
        const message = await failure(wh);

        // Assess
        expect(message).toMatch(
          /gold events per hour = silver events per hour: expected (\d+), got \1 \(2 of 2 hours differ: /,
        );
        const events = (h: { events: number }) => Number(h.events);
        expect(message).toContain(`${h0.hour_start} (silver ${events(h0)}, gold ${events(h0) + 1})`);
        expect(message).toContain(`${h1.hour_start} (silver ${events(h1)}, gold ${events(h1) - 1})`);
      });
    });
  });
}

async function scalar(wh: Warehouse, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await wh.query<{ n: number }>(sql, params);
  return Number(row?.n ?? 0);
}

/** Two objects of the same hour, each with more than one row. */
async function twoObjectsOfOneHour(wh: Warehouse): Promise<[string, string]> {
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

/** Inserts copies of the rows `where` selects, with one column set to `value`. */
async function copyRows(
  wh: Warehouse,
  schema: string,
  table: string,
  column: string,
  where: string,
  params: unknown[],
  value: string,
): Promise<void> {
  const columns =
    schema === 'bronze'
      ? BRONZE_COLUMNS.map((c) => c.name)
      : (
          await wh.query<{ column_name: string }>(
            `select column_name from information_schema.columns
              where table_schema = '${schema}' and table_name = '${table}' order by ordinal_position`,
          )
        ).map((c) => c.column_name);
  const p = params.length + 1;
  const select = columns.map((c) => (c === column ? `cast($${p} as varchar)` : c)).join(', ');
  await wh.query(
    `insert into ${schema}.${table} (${columns.join(', ')}) select ${select} from ${schema}.${table} where ${where}`,
    [...params, value],
  );
}
