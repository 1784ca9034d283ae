/**
 * Bronze landing end to end, against the real local broker and the local S3 server: 100,000 simulated
 * events with duplicates, late events and 1% invalid records go through the event source mapping emulator
 * into the consumer handler. A clean run is checked record by record; a run with a flaky handler and a
 * run whose consumer process is killed mid-stream must leave exactly the same objects, byte for byte.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { S3Client } from '@aws-sdk/client-s3';
import { createConsumerHandler, type MskEvent } from '../../lambdas/consumer/handler.ts';
import { DEFAULT_GZIP_LEVEL } from '../../lambdas/consumer/land.ts';
import type { BronzeRecord, QuarantineRecord } from '../../lambdas/core/bronze.ts';
import { getObjectBytes, headObjectMetadata, listAllObjects } from '../../lambdas/core/s3.ts';
import { simulate } from '../../lambdas/core/simulator/index.ts';
import { startEventSourceMapping } from '../../localstack/esm/index.ts';
import { startLocalS3, type LocalS3 } from '../../localstack/s3-server.ts';
import { startTestBroker, type TestBroker } from '../esm/helpers.ts';

const TOPIC = 'spotify-events';
const EVENTS = 100_000;
// Every run cuts the same batches: the whole topic is in the broker before consuming, and the mapping cuts
// a partition at batch-size multiples from its committed offset.
const BATCH_SIZE = 1000;
const WINDOW_MS = 1000;
const MDS = path.join(import.meta.dirname, '..', '..', 'bin', 'mds.mjs');

const sim = simulate({
  seed: 4242,
  events: EVENTS,
  start: new Date('2026-11-20T00:00:00Z'),
  end: new Date('2026-11-20T06:00:00Z'),
  duplicateFraction: 0.02,
  lateFraction: 0.02,
  invalidFraction: 0.01,
});

let kafka: TestBroker;
let dir: string;
let server: LocalS3;
let s3: S3Client;

process.env.POWERTOOLS_METRICS_DISABLED = 'true';

function consumer(bucket: string): (event: MskEvent) => Promise<unknown> {
  return createConsumerHandler({
    s3,
    config: () => ({
      bucket,
      bronzePrefix: 'bronze/',
      quarantinePrefix: 'quarantine/',
      gzipLevel: DEFAULT_GZIP_LEVEL,
    }),
    logger: new Logger({ serviceName: 'consumer', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'Test', serviceName: 'consumer' }),
  });
}

async function runMapping(groupId: string, handler: (e: MskEvent) => Promise<unknown>) {
  const mapping = await startEventSourceMapping({
    brokers: [kafka.broker.bootstrap],
    topic: TOPIC,
    groupId,
    batchSize: BATCH_SIZE,
    batchingWindowMs: WINDOW_MS,
    maxAttempts: 3,
    retryBaseMs: 10,
    onFailure: async () => {
      throw new Error('no batch may reach the on-failure destination in this test');
    },
    handler,
  });
  await mapping.drained(150_000);
  await mapping.stop();
  return mapping.stats();
}

/** Every object under bronze/ and quarantine/ of a bucket: key -> bytes. */
async function snapshot(bucket: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const prefix of ['bronze/', 'quarantine/']) {
    for (const o of await listAllObjects(s3, bucket, prefix)) {
      out.set(o.key, Buffer.from(await getObjectBytes(s3, bucket, o.key)));
    }
  }
  return out;
}

function linesOf(body: Buffer): string[] {
  return gunzipSync(body).toString('utf8').trimEnd().split('\n');
}

function expectSameObjects(actual: Map<string, Buffer>, expected: Map<string, Buffer>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  const differing = [...expected].filter(([k, v]) => !actual.get(k)!.equals(v)).map(([k]) => k);
  expect(differing).toEqual([]);
}

beforeAll(async () => {
  kafka = await startTestBroker();
  dir = await mkdtemp(path.join(os.tmpdir(), 'pipeline-s3-'));
  server = await startLocalS3({ directory: dir, buckets: ['clean', 'flaky', 'crash'] });
  s3 = server.client();
  await kafka.createTopic(TOPIC, 3);
  expect(await kafka.produce(TOPIC, sim.records())).toBe(EVENTS);
}, 120_000);

afterAll(async () => {
  s3?.destroy();
  await server?.close();
  await kafka?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Bronze landing through the local broker, mapping and S3 server', () => {
  let clean: Map<string, Buffer>;

  it('lands every valid record once under its event hour and quarantines every invalid one with reasons', async () => {
    // Prepare
    const summary = sim.summary();
    const validIds = new Map<string, number>();
    const invalidValues: string[] = [];
    for (const r of sim.records()) {
      if (r.fault === 'invalid') invalidValues.push(r.value);
      else {
        const id = (JSON.parse(r.value) as { event_id: string }).event_id;
        validIds.set(id, (validIds.get(id) ?? 0) + 1);
      }
    }

    // Act
    const stats = await runMapping('clean', consumer('clean'));
    clean = await snapshot('clean');

    // Assess
    expect(stats).toMatchObject({ records: EVENTS, failures: 0, sentToOnFailure: 0 });
    const landedIds = new Map<string, number>();
    const positions = new Set<string>();
    const quarantinedValues: string[] = [];
    let landed = 0;
    let quarantined = 0;
    for (const [key, body] of clean) {
      const lines = linesOf(body);
      expect(await headObjectMetadata(s3, 'clean', key)).toMatchObject({ records: String(lines.length) });
      const hour = /date=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\//.exec(key)!;
      const offsets = /-(\d+)-(\d+)-(\d+)\.ndjson\.gz$/.exec(key)!;
      for (const line of lines) {
        if (key.startsWith('bronze/')) {
          const r = JSON.parse(line) as BronzeRecord;
          landed++;
          expect(r.timestamp.slice(0, 13)).toBe(`${hour[1]}T${hour[2]}`);
          positions.add(`${r._partition}/${r._offset}`);
          landedIds.set(r.event_id, (landedIds.get(r.event_id) ?? 0) + 1);
        } else {
          const q = JSON.parse(line) as QuarantineRecord;
          quarantined++;
          expect(q.kafka_timestamp.slice(0, 13)).toBe(`${hour[1]}T${hour[2]}`);
          expect(q.problems.length).toBeGreaterThan(0);
          quarantinedValues.push(Buffer.from(q.value_base64!, 'base64').toString('utf8'));
        }
      }
      const first = JSON.parse(lines[0]!) as { _offset?: number; offset?: number };
      expect(first._offset ?? first.offset).toBe(Number(offsets[2]));
    }
    expect(summary.duplicates).toBeGreaterThan(0);
    expect(summary.late).toBeGreaterThan(0);
    expect(summary.invalid).toBe(EVENTS / 100);
    expect(landed + quarantined).toBe(EVENTS);
    expect(landed).toBe(summary.valid);
    expect(positions.size).toBe(landed);
    expect(landedIds).toEqual(validIds);
    expect(quarantinedValues.sort()).toEqual(invalidValues.sort());
  }, 180_000);

  it('leaves the same objects, byte for byte, when the handler fails on some batches once or repeatedly', async () => {
    // Prepare: batches starting at a multiple of 3000 fail once after writing their objects; batches
    // starting at 5000, 15000, ... fail twice before writing anything.
    const land = consumer('flaky');
    const attempts = new Map<string, number>();
    const flaky = async (event: MskEvent): Promise<unknown> => {
      const [tp, records] = Object.entries(event.records)[0]!;
      const first = records[0]!.offset;
      const id = `${tp}/${first}`;
      const n = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, n);
      if (first % 10_000 === 5000 && n <= 2) throw new Error('S3 throttled');
      const result = await land(event);
      if (first % 3000 === 0 && n === 1) throw new Error('timed out after writing');
      return result;
    };

    // Act
    const stats = await runMapping('flaky', flaky);

    // Assess
    expect(stats.failures).toBeGreaterThan(3);
    expect(stats.sentToOnFailure).toBe(0);
    expectSameObjects(await snapshot('flaky'), clean);
  }, 180_000);

  it('leaves the same objects, byte for byte, after the consumer process is killed mid-stream', async () => {
    // Prepare
    const args = [
      MDS,
      'consume',
      '--brokers',
      kafka.broker.bootstrap,
      '--topic',
      TOPIC,
      '--group',
      'crash',
      '--s3-endpoint',
      server.endpoint,
      '--bucket',
      'crash',
      '--batch-size',
      String(BATCH_SIZE),
      '--batching-window-ms',
      String(WINDOW_MS),
    ];
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    let early: number | null | undefined;
    const exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        early = code;
        resolve(code);
      }),
    );
    for (;;) {
      // The consumer must still be running when it is killed; an early exit is a failure of its own.
      expect(early).toBeUndefined();
      const written = (await listAllObjects(s3, 'crash', 'bronze/')).length;
      if (written >= clean.size / 4) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // Act: kill it without warning, then run the command again until the topic is drained.
    child.kill('SIGKILL');
    await exited;
    const rerun = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const p = spawn(process.execPath, [...args, '--until-drained'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let stdout = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.once('exit', (code) => resolve({ code, stdout }));
    });

    // Assess: the second process had work left, and the result is the clean run's.
    expect(rerun.code).toBe(0);
    const resumed = Number(/records (\d+)/.exec(rerun.stdout)?.[1]);
    expect(resumed).toBeGreaterThan(0);
    expect(resumed).toBeLessThan(EVENTS);
    expectSameObjects(await snapshot('crash'), clean);
  }, 180_000);
});
