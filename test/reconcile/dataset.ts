/**
 * A small real dataset for the reconcile tests: simulated events (duplicates and invalid records among them)
 * landed in the local S3 server by the consumer's landing code, loaded into a DuckDB file by the loader and
 * modelled by the embedded dbt runner, as the pipeline does. Built once per test file; each test works on a
 * copy of the warehouse file (`copyWarehouse`), so a corruption stays in its test.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { landBatch } from '../../lambdas/consumer/land.ts';
import type { MskEvent, MskRecord } from '../../lambdas/consumer/msk-event.ts';
import { loadBronze } from '../../lambdas/loader/load.ts';
import type { RunWindow } from '../../lambdas/core/run-summary.ts';
import { simulate } from '../../lambdas/core/simulator/index.ts';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lambdas/core/warehouse/duckdb.ts';
import { runDbt } from '../../localstack/dbt/index.ts';
import { PROJECT_ROOT } from '../../localstack/paths.ts';
import { startLocalS3, type LocalS3 } from '../../localstack/s3-server.ts';

export const TOPIC = 'spotify-events';
const PARTITIONS = 3;
const BATCH = 400;

export interface Dataset {
  readonly dir: string;
  readonly bucket: string;
  readonly s3server: LocalS3;
  readonly s3: S3Client;
  readonly window: RunWindow;
  /** The clean warehouse file; tests open copies of it. */
  readonly warehousePath: string;
  /** A fresh copy of the clean warehouse, opened. */
  copyWarehouse(): Promise<DuckDbWarehouse>;
  close(): Promise<void>;
}

export async function buildDataset(options: {
  events: number;
  hours: number;
  seed: number;
}): Promise<Dataset> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mds-reconcile-'));
  const bucket = 'reconcile';
  const s3server = await startLocalS3({ directory: path.join(dir, 's3'), buckets: [bucket] });
  const s3 = s3server.client();
  const end = new Date('2026-11-20T04:00:00.000Z');
  const start = new Date(end.getTime() - options.hours * 3_600_000);
  const window = { start: start.toISOString(), end: end.toISOString() };

  // Produce: the simulated records in send order, spread over partitions by key, in batches as the mapping sends them.
  const offsets = new Array<number>(PARTITIONS).fill(0);
  let batch: MskRecord[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const records: Record<string, MskRecord[]> = {};
    for (const r of batch) (records[`${r.topic}-${r.partition}`] ??= []).push(r);
    const event: MskEvent = { eventSource: 'SelfManagedKafka', records };
    await landBatch(s3, bucket, event);
    batch = [];
  };
  const sim = simulate({
    seed: options.seed,
    events: options.events,
    start,
    end,
    duplicateFraction: 0.02,
    invalidFraction: 0.01,
  });
  for (const r of sim.records()) {
    const partition = r.key ? hash(r.key) % PARTITIONS : 0;
    batch.push({
      topic: TOPIC,
      partition,
      offset: offsets[partition]!++,
      timestamp: r.sendTime.getTime(),
      timestampType: 'CREATE_TIME',
      key: r.key === null ? null : Buffer.from(r.key).toString('base64'),
      value: Buffer.from(r.value).toString('base64'),
    });
    if (batch.length === BATCH) await flush();
  }
  await flush();

  // Load and model, as LoadBronze and RunDbt do.
  const warehousePath = path.join(dir, 'clean.duckdb');
  const wh = await openDuckDbWarehouse({ path: warehousePath });
  try {
    await wh.ensureBronze();
    const load = await loadBronze(
      { s3, bucket, warehouse: wh },
      { windowStart: window.start, windowEnd: window.end, lookbackHours: 0 },
    );
    if (!load.complete || load.errors.length)
      throw new Error(`the dataset did not load: ${JSON.stringify(load)}`);
    const dbt = await runDbt({
      projectDir: path.join(PROJECT_ROOT, 'dbt'),
      connection: wh.connection,
      command: 'build',
      targetDir: path.join(dir, 'dbt-target'),
    });
    if (!dbt.success) throw new Error('dbt build failed on the reconcile dataset');
  } finally {
    await wh.close();
  }

  let copies = 0;
  return {
    dir,
    bucket,
    s3server,
    s3,
    window,
    warehousePath,
    async copyWarehouse() {
      const copy = path.join(dir, `copy-${++copies}.duckdb`);
      await copyFile(warehousePath, copy);
      return openDuckDbWarehouse({ path: copy });
    },
    async close() {
      s3.destroy();
      await s3server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function hash(key: string): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
  return Math.abs(h);
}
