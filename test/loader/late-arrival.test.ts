/**
 * Objects found by arrival: an object that lands days after its events' hour, beyond any lookback, is
 * loaded by the next run through the arrival marker the consumer wrote; a load split over many calls
 * (as the workflow continues one) loads the same objects, once each, as one call.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { landBatch, type MskEvent } from '../../lambdas/consumer/land.ts';
import { loadBronze, type LoadRequest } from '../../lambdas/loader/load.ts';
import { arrivalKey, hourPartition } from '../../lambdas/core/bronze.ts';
import { listAllObjects, localS3ClientConfig, putObjectBytes } from '../../lambdas/core/s3.ts';
import { openDuckDbWarehouse } from '../../lambdas/core/warehouse/duckdb.ts';
import type { Warehouse } from '../../lambdas/core/warehouse/types.ts';
import { HOUR_MS } from '../../lambdas/core/window.ts';
import { startLocalS3, type LocalS3 } from '../../localstack/s3-server.ts';
import { bronzeRows, expectedRows, putBronze, records, type PutObject } from './bronze-fixtures.ts';
import { loadInSteps } from './continuation.ts';
import { mskBatch } from '../helpers/msk-batch.ts';

const BUCKET = 'bronze-late';
let dir: string;
let server: LocalS3;
let s3: S3Client;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mds-loader-late-'));
  server = await startLocalS3({ directory: path.join(dir, 's3'), buckets: [BUCKET] });
  s3 = server.client();
});
afterAll(async () => {
  s3?.destroy();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

async function withWarehouse<T>(name: string, fn: (wh: Warehouse) => Promise<T>): Promise<T> {
  const wh = await openDuckDbWarehouse({ path: path.join(dir, `${name}.duckdb`) });
  try {
    return await fn(wh);
  } finally {
    await wh.close();
  }
}

/** A Kafka batch of `count` valid events of `eventHour` on two partitions, produced at `produced`. */
function batch(eventHour: Date, count: number, produced: number): MskEvent {
  const times = Array.from({ length: count }, (_, i) =>
    new Date(eventHour.getTime() + i * 1000).toISOString(),
  );
  return mskBatch(times, { produced, partitions: 2 });
}

describe('late objects, found by arrival', () => {
  it('loads in the next run 500 events landed 3 days after their hour, beyond the 24-hour lookback', async () => {
    // Prepare: the consumer lands, at 10:20, events of 10:00 three days earlier (a producer's backlog).
    const landed = Date.parse('2031-03-04T10:20:00Z');
    const eventHour = new Date(landed - 3 * 24 * HOUR_MS - 20 * 60_000);
    const result = await landBatch(s3, BUCKET, batch(eventHour, 500, landed - 60_000), {}, () => landed);
    expect(result).toMatchObject({ landed: 500, quarantined: 0, markersWritten: 2 });
    const next: LoadRequest = {
      windowStart: '2031-03-04T10:00:00Z',
      windowEnd: '2031-03-04T11:00:00Z',
      lookbackHours: 24,
    };
    // The event-hour listing of that run does not reach the objects' hour.
    expect(eventHour.getTime()).toBeLessThan(Date.parse(next.windowStart) - 24 * HOUR_MS);

    // Act: the next hourly run, then the one after it.
    const [first, second, rows] = await withWarehouse('three-days', async (wh) => {
      const deps = { s3, bucket: BUCKET, warehouse: wh };
      const a = await loadBronze(deps, next);
      const b = await loadBronze(deps, {
        windowStart: '2031-03-04T11:00:00Z',
        windowEnd: '2031-03-04T12:00:00Z',
        lookbackHours: 24,
      });
      return [a, b, await bronzeRows(wh)] as const;
    });

    // Assess: loaded once, every event, and the run after skips them as already loaded.
    expect(first).toMatchObject({ complete: true, objectsLoaded: 2, rowsLoaded: 500, errors: [] });
    expect(second).toMatchObject({ objectsLoaded: 0, objectsSkipped: 2 });
    expect(rows).toHaveLength(500);
    expect(new Set(rows.map((r) => r.source_file))).toEqual(
      new Set(result.objects.filter((o) => o.kind === 'bronze').map((o) => o.key)),
    );
  });

  it('a load continued over many calls loads early, listed and future objects once each, as one call', async () => {
    // Prepare: two objects of the window's hours, three landed late for hours before the lookback and
    // two stamped later than the window, all marked as arrived in the window's hour; one marker whose
    // object is gone names nothing.
    const start = Date.parse('2031-05-10T08:00:00Z');
    const objects: PutObject[] = [];
    const mark = (o: PutObject) =>
      putObjectBytes(s3, BUCKET, arrivalKey(new Date(start + 600_000), o.key), '');
    for (const offsetHours of [-100, -80, -80, 0, 1, 5, 30]) {
      const hour = new Date(start + offsetHours * HOUR_MS);
      const o = await putBronze(s3, BUCKET, hour, records(hour, 3 + objects.length));
      objects.push(o);
      if (offsetHours !== 0 && offsetHours !== 1) await mark(o);
    }
    await putObjectBytes(
      s3,
      BUCKET,
      arrivalKey(new Date(start), `bronze/${hourPartition(new Date(start - 90 * HOUR_MS))}gone.ndjson.gz`),
      '',
    );
    const req: LoadRequest = {
      windowStart: '2031-05-10T08:00:00Z',
      windowEnd: '2031-05-10T10:00:00Z',
      lookbackHours: 2,
      batchSize: 1,
    };

    // Act: one call, and a load whose every call is past its deadline (one step of progress per call).
    const one = await withWarehouse('one-call', async (wh) => {
      const r = await loadBronze({ s3, bucket: BUCKET, warehouse: wh }, req);
      return { r, rows: await bronzeRows(wh) };
    });
    // Count the arrival listings each call makes.
    const counting = new S3Client(localS3ClientConfig(server.endpoint));
    let arrivalLists = 0;
    counting.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Prefix?: string };
        if (input.Prefix?.startsWith('arrivals/')) arrivalLists++;
        return next(args);
      },
      { step: 'initialize', name: 'countArrivalLists' },
    );
    const listsPerCall: number[] = [];
    const split = await withWarehouse('split', async (wh) => {
      const clock = Date.parse('2031-05-10T10:05:00Z');
      let before = 0;
      const chained = await loadInSteps(
        { s3: counting, bucket: BUCKET, warehouse: wh, now: () => clock },
        req,
        () => clock,
        {
          onReturn: () => {
            listsPerCall.push(arrivalLists - before);
            before = arrivalLists;
          },
        },
      );
      return { chained, rows: await bronzeRows(wh) };
    });
    counting.destroy();

    // Assess
    const expected = expectedRows(objects);
    expect(one.r).toMatchObject({ complete: true, objectsLoaded: 7, objectsSeen: 7, errors: [] });
    expect(one.rows.map(({ loaded_at: _, ...r }) => r)).toEqual(expected);
    expect(split.chained.steps.length).toBeGreaterThan(7);
    expect(split.chained.result).toEqual(one.r);
    expect(split.rows.map(({ loaded_at: _, ...r }) => r)).toEqual(expected);
    // A call that starts and stops within the listed hours lists no arrivals: they are read before and
    // after those hours, not again by every call of a long load.
    const first = `bronze/${hourPartition(new Date(start - 2 * HOUR_MS))}`;
    const last = `bronze/${hourPartition(new Date(start + 2 * HOUR_MS))}`;
    const inside = (k: string | undefined) => k !== undefined && k >= first && k < last;
    const middle = split.chained.steps
      .map((r, i) => ({ from: i === 0 ? '' : split.chained.steps[i - 1]!.resumeAfter, to: r.resumeAfter, i }))
      .filter((c) => inside(c.from) && inside(c.to));
    expect(middle.length).toBeGreaterThan(0);
    for (const c of middle) expect(listsPerCall[c.i], `call ${c.i}`).toBe(0);
    expect((await listAllObjects(s3, BUCKET, 'arrivals/')).length).toBeGreaterThan(0);
  });
});
