/**
 * The late-arrivals check against a real warehouse and the local S3 server: objects that landed during the
 * window for an hour days earlier (found by their arrival markers) must be loaded with exactly their lines.
 * Each case corrupts a fresh warehouse the way the check exists for and sees it fail naming the object.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { landBatch, type MskEvent } from '../../lambdas/consumer/land.ts';
import { loadBronze } from '../../lambdas/loader/load.ts';
import { lateArrivalsCheck, reconcileWindow } from '../../lambdas/reconcile/reconcile.ts';
import { arrivalKey } from '../../lambdas/core/bronze.ts';
import { putObjectBytes } from '../../lambdas/core/s3.ts';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lambdas/core/warehouse/duckdb.ts';
import { runDbt } from '../../localstack/dbt/index.ts';
import { mskBatch } from '../helpers/msk-batch.ts';
import type { Warehouse } from '../../lambdas/core/warehouse/types.ts';
import { HOUR_MS } from '../../lambdas/core/window.ts';
import { startLocalS3, type LocalS3 } from '../../localstack/s3-server.ts';

const WINDOW = { start: '2032-02-02T10:00:00.000Z', end: '2032-02-02T11:00:00.000Z' };
/** The consumer lands, during the window, events of an hour five days earlier. */
const LANDED = Date.parse('2032-02-02T10:40:00Z');
const EVENT_HOUR = LANDED - 5 * 24 * HOUR_MS - 40 * 60_000;

let dir: string;
let server: LocalS3;
let s3: S3Client;
let bucketNo = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mds-reconcile-late-'));
  server = await startLocalS3({
    directory: path.join(dir, 's3'),
    buckets: ['late-0', 'late-1', 'late-2', 'late-3', 'late-4'],
  });
  s3 = server.client();
});
afterAll(async () => {
  s3?.destroy();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

function batch(count: number): MskEvent {
  const times = Array.from({ length: count }, (_, i) => new Date(EVENT_HOUR + i * 1000).toISOString());
  return mskBatch(times, { produced: LANDED - 60_000 });
}

/** A bucket with one late object landed (and marked) during the window, loaded into a fresh warehouse. */
async function landedAndLoaded(): Promise<{ bucket: string; key: string; wh: DuckDbWarehouse }> {
  const bucket = `late-${bucketNo++}`;
  const landed = await landBatch(s3, bucket, batch(300), {}, () => LANDED);
  const key = landed.objects[0]!.key;
  const wh = await openDuckDbWarehouse({ path: path.join(dir, `${bucket}.duckdb`) });
  const load = await loadBronze(
    { s3, bucket, warehouse: wh },
    { windowStart: WINDOW.start, windowEnd: WINDOW.end, lookbackHours: 24 },
  );
  expect(load).toMatchObject({ objectsLoaded: 1, rowsLoaded: 300 });
  const dbt = await runDbt({
    projectDir: path.join(import.meta.dirname, '..', '..', 'dbt'),
    connection: wh.connection,
    command: 'build',
    targetDir: path.join(dir, `${bucket}-dbt`),
  });
  expect(dbt.success).toBe(true);
  return { bucket, key, wh };
}

async function check(bucket: string, wh: Warehouse, runStartedAt = '2032-02-02T11:05:00Z') {
  const result = await reconcileWindow(
    { s3, bucket, warehouse: wh },
    { runId: 't', window: WINDOW, runStartedAt },
    [lateArrivalsCheck],
  );
  return result.checks[0]!;
}

describe('late objects that arrived in the window', () => {
  it('pass when each is loaded with exactly its lines', async () => {
    const { bucket, wh } = await landedAndLoaded();
    try {
      expect(await check(bucket, wh)).toMatchObject({ ok: true, expected: 300, actual: 300 });
    } finally {
      await wh.close();
    }
  });

  it('fail naming an object that was not loaded', async () => {
    const { bucket, key, wh } = await landedAndLoaded();
    try {
      await wh.query('delete from bronze.listening_events where source_file = $1', [key]);
      const c = await check(bucket, wh);
      expect(c.ok).toBe(false);
      expect(c.detail).toContain(`${key} (300 records, not loaded)`);
    } finally {
      await wh.close();
    }
  });

  it('fail naming an object with a row missing and another doubled (its count unchanged)', async () => {
    const { bucket, key, wh } = await landedAndLoaded();
    try {
      await wh.query(
        'update bronze.listening_events set source_row = 1 where source_file = $1 and source_row = 2',
        [key],
      );
      const c = await check(bucket, wh);
      expect(c).toMatchObject({ ok: false, expected: 300, actual: 300 });
      expect(c.detail).toContain(`${key} (300 records, 300 rows but 299 distinct lines 1..300)`);
    } finally {
      await wh.close();
    }
  });

  it('fail naming a marker whose object is not in the object store', async () => {
    const { bucket, wh } = await landedAndLoaded();
    try {
      const ghost = 'bronze/date=2032-01-20/hour=03/spotify-events-0-9-9.ndjson.gz';
      await putObjectBytes(s3, bucket, arrivalKey(new Date(LANDED), ghost), '');
      const c = await check(bucket, wh);
      expect(c.ok).toBe(false);
      expect(c.detail).toContain(`${ghost} (marked as arrived, not in the object store)`);
    } finally {
      await wh.close();
    }
  });

  it('leave an object whose marker was written after the run started to the next run', async () => {
    const { bucket, key, wh } = await landedAndLoaded();
    try {
      await wh.query('delete from bronze.listening_events where source_file = $1', [key]);
      // The local S3 server stamps the marker with the real clock: a run that started before it.
      expect(await check(bucket, wh, '2000-01-01T00:00:00Z')).toMatchObject({ ok: true, expected: 0 });
    } finally {
      await wh.close();
    }
  });
});
