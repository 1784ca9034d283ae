/**
 * The consumer handler's local execution environments (worker threads) against a real local S3 server:
 * the same objects as the handler in-process, concurrent invocations on separate threads, and a handler
 * error reaching the caller (so the event source mapping retries the batch as it would on AWS).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MskEvent } from '../../lambdas/consumer/handler.ts';
import { BRONZE_PREFIX, QUARANTINE_PREFIX } from '../../lambdas/shared/bronze.ts';
import { getObjectBytes, listAllObjects } from '../../lambdas/shared/s3.ts';
import { planBatch } from '../../lambdas/consumer/land.ts';
import {
  ConsumerInvocationError,
  startConsumerThreads,
  type ConsumerThreads,
} from '../../localstack/pipeline/consumer-threads.ts';
import { startLocalS3, type LocalS3 } from '../../localstack/s3-server.ts';

const BUCKET = 'threads-test';
const config = {
  bucket: BUCKET,
  bronzePrefix: BRONZE_PREFIX,
  quarantinePrefix: QUARANTINE_PREFIX,
  gzipLevel: 1,
};

async function fixture(name: string): Promise<MskEvent> {
  return JSON.parse(
    await readFile(path.join(import.meta.dirname, '..', 'fixtures', name), 'utf8'),
  ) as MskEvent;
}

/** The fixture's records moved to another partition, so each copy lands under its own keys. */
function onPartition(event: MskEvent, partition: number): MskEvent {
  return {
    ...event,
    records: Object.fromEntries(
      Object.values(event.records).map((records) => [
        `${records[0]!.topic}-${partition}`,
        records.map((r) => ({ ...r, partition })),
      ]),
    ),
  };
}

describe('consumer threads', () => {
  let dir: string;
  let server: LocalS3;
  let threads: ConsumerThreads;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'consumer-threads-'));
    server = await startLocalS3({ directory: dir, buckets: [BUCKET] });
    threads = await startConsumerThreads({ s3Endpoint: server.endpoint, config, count: 2 });
  });
  afterAll(async () => {
    await threads?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lands concurrent invocations with the bytes the in-process core plans', async () => {
    // Prepare
    const base = await fixture('msk-event.json');
    const events = [0, 1, 2, 3, 4].map((p) => onPartition(base, p));

    // Act: five invocations at once on two threads.
    const summaries = await Promise.all(events.map((e) => threads.invoke(e)));

    // Assess
    const planned = events.flatMap((e) => planBatch(e, config).objects);
    expect(summaries.reduce((n, s) => n + s.objectsWritten, 0)).toBe(planned.length);
    expect(summaries.reduce((n, s) => n + s.recordsIn, 0)).toBe(
      events.reduce((n, e) => n + Object.values(e.records).flat().length, 0),
    );
    const stored = await listAllObjects(server.client(), BUCKET, '');
    expect(stored.map((o) => o.key).sort()).toEqual(planned.map((o) => o.key).sort());
    for (const object of planned) {
      const bytes = await getObjectBytes(server.client(), BUCKET, object.key);
      expect(Buffer.from(bytes).equals(Buffer.from(object.body)), object.key).toBe(true);
    }
  });

  it('fails the invocation of a thread that dies, replaces the thread, and refuses work once closed', async () => {
    // Prepare: one thread that exits when an event asks it to.
    const pool = await startConsumerThreads({
      s3Endpoint: server.endpoint,
      config,
      count: 1,
      entry: new URL('./fixtures/crashing-consumer.mjs', import.meta.url),
    });
    const event = (crash: boolean) => ({ crash, records: {} }) as unknown as MskEvent;
    // Act / Assess
    await expect(pool.invoke(event(true))).rejects.toThrow(/consumer thread exited with code 3/);
    await expect(pool.invoke(event(false))).resolves.toMatchObject({ recordsIn: 0 });
    await pool.close();
    await expect(pool.invoke(event(false))).rejects.toThrow(/closed/);
  });

  it('gives up at once, and leaves no thread behind, when the threads cannot start', async () => {
    const starts = path.join(dir, 'starts.txt');
    await expect(
      startConsumerThreads({
        s3Endpoint: starts,
        config,
        count: 2,
        entry: new URL('./fixtures/failing-start-consumer.mjs', import.meta.url),
      }),
    ).rejects.toThrow(/consumer thread exited with code 4/);
    // No thread is started again after the failure: at most the two first ones ran (the second may have been
    // terminated before its module ran).
    await new Promise((r) => setTimeout(r, 500));
    const started = (await readFile(starts, 'utf8')).trim().split('\n').length;
    expect(started).toBeGreaterThanOrEqual(1);
    expect(started).toBeLessThanOrEqual(2);
  });

  it("passes the handler's error to the caller, and the thread keeps serving", async () => {
    const broken = await startConsumerThreads({
      s3Endpoint: server.endpoint,
      config: { ...config, bucket: 'no-such-bucket' },
      count: 1,
    });
    try {
      const event = await fixture('msk-event.json');
      const failure = await broken.invoke(event).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(ConsumerInvocationError);
      expect((failure as Error).message).toMatch(/no-such-bucket|bucket/i);
      // The same environment takes the next invocation.
      await expect(broken.invoke(event)).rejects.toBeInstanceOf(ConsumerInvocationError);
    } finally {
      await broken.close();
    }
  });
});
