/**
 * A load that stops before its deadline and is continued: over a multi-day window with many objects, the
 * chained calls (each given the previous result, as the workflow does) end in exactly the result, the
 * manifest and the Bronze rows of one unbounded load, with every object handed to the warehouse once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEADLINE_SAFETY_MS,
  MAX_REPORTED_ERRORS,
  loadBronze,
  type LoadDeps,
  type LoadRequest,
  type LoadResult,
} from '../../lambdas/loader/load.ts';
import { bronzeKey, hourPartition } from '../../lambdas/core/bronze.ts';
import { localS3ClientConfig, putObjectBytes } from '../../lambdas/core/s3.ts';
import { openDuckDbWarehouse } from '../../lambdas/core/warehouse/duckdb.ts';
import type { Warehouse } from '../../lambdas/core/warehouse/types.ts';
import { HOUR_MS } from '../../lambdas/core/window.ts';
import { startLocalS3, type LocalS3 } from '../../localstack/s3-server.ts';
import { TOPIC, bronzeRows, putBronze, records, type PutObject } from './bronze-fixtures.ts';
import { loadInSteps } from './continuation.ts';

const BUCKET = 'bronze-deadline';
let dir: string;
let s3server: LocalS3;
let s3: S3Client;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mds-loader-deadline-'));
  s3server = await startLocalS3({ directory: path.join(dir, 's3'), buckets: [BUCKET] });
  s3 = s3server.client();
});
afterAll(async () => {
  s3?.destroy();
  await s3server?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A clock the test moves: S3 requests take 1 s on it and warehouse batches 20 s. */
function fakeClock() {
  let t = Date.parse('2030-01-01T00:00:00Z');
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

interface Recorded {
  readonly warehouse: Warehouse;
  /** The keys of every loadObjects call, in order. */
  readonly batches: string[][];
}

/** A warehouse that records each batch it is given, and moves the clock as a slow warehouse would. */
function recording(wh: Warehouse, onBatch: () => void = () => undefined): Recorded {
  const batches: string[][] = [];
  const warehouse = Object.create(wh, {
    loadObjects: {
      value: (batch: Parameters<Warehouse['loadObjects']>[0]) => {
        batches.push(batch.objects.map((o) => o.key));
        onBatch();
        return wh.loadObjects(batch);
      },
    },
  }) as Warehouse;
  return { warehouse, batches };
}

/** An S3 client on the same server whose every request moves the clock. */
function slowS3(onRequest: () => void): S3Client {
  const client = new S3Client(localS3ClientConfig(s3server.endpoint));
  client.middlewareStack.add(
    (next) => async (args) => {
      onRequest();
      return next(args);
    },
    { step: 'initialize', name: 'fakeClock' },
  );
  return client;
}

async function manifest(wh: Warehouse): Promise<Record<string, unknown>[]> {
  return wh.query(
    `SELECT object_key, etag, status, rows_loaded, error_count, first_error
       FROM bronze.load_manifest ORDER BY object_key`,
  );
}

interface Fixture {
  readonly req: LoadRequest;
  /** Objects in the listed hours, and the one before them that no load may see. */
  readonly inWindow: PutObject[];
  readonly outside: PutObject;
  /** The load of one hour that runs before the window is loaded (its objects are then skipped). */
  readonly warmUp: LoadRequest;
  /** How many objects the warm-up load met: that hour's objects and a truncated one. */
  readonly warmObjects: number;
}

/**
 * Three days plus a six-hour lookback (78 hour prefixes) in a month of their own: zero to three objects an
 * hour, one hour of twelve, empty hours, objects with bad lines (more errors than a result lists), a
 * truncated object, and one hour loaded before (its objects are skipped, its truncated object reported).
 */
async function writeWindow(): Promise<Fixture> {
  n++;
  const month = String(n).padStart(2, '0');
  const windowStart = Date.parse(`2027-${month}-10T00:00:00Z`);
  const listStart = windowStart - 6 * HOUR_MS;
  const inWindow: PutObject[] = [];
  let partition = 0;
  for (let i = 0; i < 78; i++) {
    const hour = new Date(listStart + i * HOUR_MS);
    const count = i === 40 ? 12 : [0, 1, 2, 3, 0, 2][i % 6]!;
    for (let p = 0; p < count; p++) {
      const recs = records(hour, 3 + ((i + p) % 4), partition++);
      inWindow.push(await putBronze(s3, BUCKET, hour, recs));
    }
    if (i % 6 === 3) {
      // 50 lines, every other one malformed: more line errors than an object reports (20).
      const recs = records(hour, 50, partition++);
      const lines = recs.map((r, j) => (j % 2 === 0 ? JSON.stringify(r) : `{"event_id": "${j}`));
      inWindow.push(await putBronze(s3, BUCKET, hour, recs, lines));
    }
  }
  const warmHour = new Date(listStart + 8 * HOUR_MS);
  const truncated = bronzeKey(warmHour, TOPIC, partition++, 0, 9);
  const gz = gzipSync(
    records(warmHour, 10)
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  await putObjectBytes(s3, BUCKET, truncated, gz.subarray(0, Math.floor(gz.length / 2)));
  const beforeHour = new Date(listStart - HOUR_MS);
  const outside = await putBronze(s3, BUCKET, beforeHour, records(beforeHour, 5, partition++));
  const req: LoadRequest = {
    windowStart: new Date(windowStart).toISOString(),
    windowEnd: new Date(windowStart + 72 * HOUR_MS).toISOString(),
    lookbackHours: 6,
    batchSize: 5,
  };
  const warmUp: LoadRequest = {
    windowStart: warmHour.toISOString(),
    windowEnd: new Date(warmHour.getTime() + HOUR_MS).toISOString(),
    lookbackHours: 0,
  };
  const warmObjects = inWindow.filter((o) => o.key.includes(hourPartition(warmHour))).length + 1;
  return { req, inWindow, outside, warmUp, warmObjects };
}

async function withWarehouses(fn: (a: Warehouse, b: Warehouse) => Promise<void>): Promise<void> {
  const sub = await mkdtemp(path.join(dir, 'wh-'));
  const a = await openDuckDbWarehouse({ path: path.join(sub, 'unbounded.duckdb') });
  const b = await openDuckDbWarehouse({ path: path.join(sub, 'continued.duckdb') });
  try {
    await fn(a, b);
  } finally {
    await a.close();
    await b.close();
  }
}

/** What the chained load must match: the unbounded load's result, manifest, rows and batches. */
async function assertSameLoad(
  unbounded: { result: LoadResult; wh: Warehouse; batches: string[][] },
  continued: { result: LoadResult; wh: Warehouse; batches: string[][] },
): Promise<void> {
  // The warm-up ran at another instant for each warehouse, and "failed on <instant>" says when.
  const when = (r: LoadResult) =>
    JSON.parse(JSON.stringify(r).replace(/failed on [0-9TZ:.-]+/g, 'failed on <instant>')) as LoadResult;
  expect(when(continued.result)).toEqual(when(unbounded.result));
  expect(await manifest(continued.wh)).toEqual(await manifest(unbounded.wh));
  expect(await bronzeRows(continued.wh)).toEqual(await bronzeRows(unbounded.wh));
  // Object by object: every object the unbounded load handed to the warehouse, exactly once, in the same batches.
  const keys = continued.batches.flat();
  expect(new Set(keys).size).toBe(keys.length);
  expect(keys.sort()).toEqual(unbounded.batches.flat().sort());
  expect(continued.batches).toEqual(unbounded.batches);
}

describe('Bronze loader with a deadline (DuckDB)', () => {
  it('stops before each deadline and, continued, loads a multi-day window exactly as one unbounded load', async () => {
    await withWarehouses(async (whA, whB) => {
      // Prepare
      const fx = await writeWindow();
      for (const wh of [whA, whB]) await loadBronze({ s3, bucket: BUCKET, warehouse: wh }, fx.warmUp);
      const clock = fakeClock();
      const a = recording(whA);
      const b = recording(whB, () => clock.advance(20_000));
      const s3b = slowS3(() => clock.advance(1_000));
      const returnedAt: { now: number; deadline: number }[] = [];

      // Act: an unbounded load, and one whose every call has two minutes
      const unbounded = await loadBronze({ s3, bucket: BUCKET, warehouse: a.warehouse }, fx.req);
      const chained = await loadInSteps(
        { s3: s3b, bucket: BUCKET, warehouse: b.warehouse, now: clock.now },
        fx.req,
        () => clock.now() + 120_000,
        { onReturn: (_r, deadline) => returnedAt.push({ now: clock.now(), deadline }) },
      );
      s3b.destroy();

      // Assess: the window needed several calls, each returned in time and made progress
      expect(chained.steps.length).toBeGreaterThanOrEqual(5);
      for (const r of returnedAt) expect(r.now).toBeLessThanOrEqual(r.deadline);
      const cursors = chained.steps.slice(0, -1).map((s) => s.resumeAfter ?? '');
      expect(cursors.every((c, i) => c > (cursors[i - 1] ?? ''))).toBe(true);
      for (const s of chained.steps.slice(0, -1)) {
        expect(s).toMatchObject({ complete: false, resumeAfter: expect.any(String) });
        expect(s.slowestBatchMs).toBeGreaterThanOrEqual(20_000);
      }
      // the unbounded result is what the window holds
      expect(unbounded).toMatchObject({
        complete: true,
        objectsSeen: fx.inWindow.length + 1,
        objectsLoaded: fx.inWindow.length + 1 - fx.warmObjects,
        objectsSkipped: fx.warmObjects,
        objectsFailed: 1,
      });
      expect(unbounded.objectsLoaded).toBeGreaterThan(100);
      expect(unbounded.errors).toHaveLength(MAX_REPORTED_ERRORS + 1);
      expect(unbounded.errors.at(-1)?.message).toMatch(/^\d+ more errors not listed/);
      expect(Object.keys(unbounded).sort()).toEqual([
        'complete',
        'errors',
        'objectsFailed',
        'objectsLoaded',
        'objectsSeen',
        'objectsSkipped',
        'rowsLoaded',
      ]);
      expect(a.batches.flat()).not.toContain(fx.outside.key);
      await assertSameLoad(
        { result: unbounded, wh: whA, batches: a.batches },
        { result: chained.result, wh: whB, batches: b.batches },
      );
    });
  });

  it('with no time left, each call still makes one step, listing included, and the total is the same', async () => {
    await withWarehouses(async (whA, whB) => {
      // Prepare
      const fx = await writeWindow();
      const a = recording(whA);
      const b = recording(whB);
      const batchesBy: number[] = [];

      // Act: every call's deadline has passed already
      const unbounded = await loadBronze({ s3, bucket: BUCKET, warehouse: a.warehouse }, fx.req);
      const chained = await loadInSteps(
        { s3, bucket: BUCKET, warehouse: b.warehouse },
        fx.req,
        () => Date.now() - 1,
        { onReturn: () => batchesBy.push(b.batches.length) },
      );

      // Assess: at most one batch per call, and calls that only listed empty hours
      const perCall = batchesBy.map((count, i) => count - (batchesBy[i - 1] ?? 0));
      expect(Math.max(...perCall)).toBe(1);
      expect(perCall.filter((c) => c === 0).length).toBeGreaterThan(0);
      expect(chained.steps.some((s) => s.resumeAfter?.endsWith('/'))).toBe(true);
      await assertSameLoad(
        { result: unbounded, wh: whA, batches: a.batches },
        { result: chained.result, wh: whB, batches: b.batches },
      );
    });
  });

  it('ABORT_STATEMENT: a continued load stops at the same batch and still counts the whole window', async () => {
    await withWarehouses(async (whA, whB) => {
      // Prepare: 3 objects an hour over 10 hours, a bad line in the fifth hour
      n++;
      const start = Date.parse(`2027-${String(n).padStart(2, '0')}-10T00:00:00Z`);
      const objects: PutObject[] = [];
      for (let h = 0; h < 10; h++) {
        const hour = new Date(start + h * HOUR_MS);
        for (let p = 0; p < 3; p++) {
          const recs = records(hour, 4, p);
          const lines = recs.map((r) => JSON.stringify(r));
          if (h === 4 && p === 1) lines[2] = '{"event_id": ';
          objects.push(await putBronze(s3, BUCKET, hour, recs, lines));
        }
      }
      const req: LoadRequest = {
        windowStart: new Date(start).toISOString(),
        windowEnd: new Date(start + 10 * HOUR_MS).toISOString(),
        lookbackHours: 0,
        batchSize: 4,
        onError: 'ABORT_STATEMENT',
      };
      const a = recording(whA);
      const b = recording(whB);

      // Act
      const unbounded = await loadBronze({ s3, bucket: BUCKET, warehouse: a.warehouse }, req);
      const chained = await loadInSteps(
        { s3, bucket: BUCKET, warehouse: b.warehouse },
        req,
        () => Date.now() - 1,
      );

      // Assess: batches of 4 over sorted keys; the bad object is the 14th, in the fourth batch
      expect(unbounded).toEqual({
        complete: true,
        objectsSeen: 30,
        objectsLoaded: 12,
        objectsSkipped: 0,
        objectsFailed: 4,
        rowsLoaded: 48,
        errors: [{ key: objects[13]!.key, line: 3, message: expect.stringContaining('malformed JSON') }],
      });
      expect(chained.steps.length).toBeGreaterThan(5);
      await assertSameLoad(
        { result: unbounded, wh: whA, batches: a.batches },
        { result: chained.result, wh: whB, batches: b.batches },
      );
    });
  });

  it('refuses a previous result that belongs to another window, and a deadline that is not a number', async () => {
    await withWarehouses(async (wh) => {
      const base: LoadRequest = {
        windowStart: '2027-12-10T00:00:00Z',
        windowEnd: '2027-12-10T02:00:00Z',
        lookbackHours: 0,
      };
      const previous: LoadResult = {
        complete: false,
        objectsSeen: 1,
        objectsLoaded: 1,
        objectsSkipped: 0,
        objectsFailed: 0,
        rowsLoaded: 4,
        errors: [],
        resumeAfter: 'bronze/date=2027-12-11/hour=05/x.ndjson.gz',
        slowestBatchMs: 10,
      };
      const deps: LoadDeps = { s3, bucket: BUCKET, warehouse: wh };
      await expect(loadBronze(deps, { ...base, previous })).rejects.toThrow(/resumeAfter.*not in/);
      await expect(loadBronze(deps, { ...base, deadlineMs: Number.NaN })).rejects.toThrow(/deadlineMs/);
      expect(DEADLINE_SAFETY_MS).toBeGreaterThanOrEqual(10_000);
    });
  });

  it('ends a batch at the object that brings it to batchBytes, and refuses a batchBytes that is not a size', async () => {
    // Prepare: six objects of one hour, each a few hundred bytes of gzip.
    const hour = new Date('2031-03-04T05:00:00Z');
    const put: PutObject[] = [];
    for (let p = 0; p < 6; p++) put.push(await putBronze(s3, BUCKET, hour, records(hour, 20, p)));
    const sizes = await Promise.all(
      put.map(
        async (o) =>
          (await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: o.key }))).ContentLength ?? 0,
      ),
    );
    const req: LoadRequest = {
      windowStart: hour.toISOString(),
      windowEnd: new Date(hour.getTime() + HOUR_MS).toISOString(),
      lookbackHours: 0,
      batchSize: 500,
      // Reached by the second object of every pair, never by one object alone (checked below).
      batchBytes: 2 * Math.min(...sizes),
    };
    expect(Math.max(...sizes)).toBeLessThan(2 * Math.min(...sizes));
    await withWarehouses(async (wh) => {
      const rec = recording(wh);
      // Act
      const result = await loadBronze({ s3, bucket: BUCKET, warehouse: rec.warehouse }, req);
      // Assess: three batches of two, every row loaded once.
      expect(result.complete).toBe(true);
      expect(result.rowsLoaded).toBe(120);
      expect(rec.batches.map((b) => b.length)).toEqual([2, 2, 2]);
      await expect(
        loadBronze({ s3, bucket: BUCKET, warehouse: wh }, { ...req, batchBytes: 0 }),
      ).rejects.toThrow(/batchBytes: 0 is not a positive whole number of bytes/);
    });
  });
});
