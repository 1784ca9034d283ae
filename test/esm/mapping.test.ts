import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEventSourceMapping, type MskEvent } from '../../localstack/esm/index.ts';
import { UsageError } from '../../lambdas/core/errors.ts';
import { plainRecords, startTestBroker, type TestBroker } from './helpers.ts';

let kafka: TestBroker;

beforeAll(async () => {
  kafka = await startTestBroker();
});

afterAll(async () => {
  await kafka?.close();
});

const noFailure = async (): Promise<void> => {
  throw new Error('unexpected on-failure call');
};

function only(event: MskEvent): { key: string; records: MskEvent['records'][string] } {
  const entries = Object.entries(event.records);
  expect(entries).toHaveLength(1);
  return { key: entries[0]![0], records: entries[0]![1] };
}

function values(event: MskEvent): number[] {
  return only(event).records.map(
    (r) => (JSON.parse(Buffer.from(r.value!, 'base64').toString()) as { n: number }).n,
  );
}

describe('local event source mapping', () => {
  it('delivers every record once in the Lambda event shape, one partition per batch, cut at batch size', async () => {
    // Prepare
    const topic = 'batching';
    await kafka.createTopic(topic, 3);
    const produced = plainRecords(2500);
    await kafka.produce(topic, produced);
    const events: MskEvent[] = [];

    // Act
    const mapping = await startEventSourceMapping({
      brokers: [kafka.broker.bootstrap],
      topic,
      groupId: 'g-batching',
      batchSize: 400,
      batchingWindowMs: 300,
      onFailure: noFailure,
      handler: async (e) => {
        events.push(e);
      },
    });
    await mapping.drained(60_000);
    await mapping.stop();

    // Assess
    expect(events.flatMap(values).sort((a, b) => a - b)).toEqual(produced.map((_, i) => i));
    expect(mapping.stats()).toEqual({
      batches: events.length,
      records: 2500,
      failures: 0,
      sentToOnFailure: 0,
    });
    const byPartition = new Map<string, number[][]>();
    for (const e of events) {
      expect(e).toMatchObject({ eventSource: 'aws:kafka', bootstrapServers: kafka.broker.bootstrap });
      expect(e.eventSourceArn).toMatch(/^arn:aws:kafka:/);
      const { key, records } = only(e);
      expect(records.length).toBeLessThanOrEqual(400);
      const offsets = records.map((r) => r.offset);
      expect(offsets).toEqual(offsets.map((_, i) => offsets[0]! + i));
      byPartition.set(key, [...(byPartition.get(key) ?? []), offsets]);
      for (const r of records) {
        expect(`${r.topic}-${r.partition}`).toBe(key);
        const n = JSON.parse(Buffer.from(r.value!, 'base64').toString()) as { n: number };
        expect(Buffer.from(r.key!, 'base64').toString()).toBe(`k${n.n % 10}`);
        expect(r.timestamp).toBe(produced[n.n]!.sendTime.getTime());
        expect(r.timestampType).toBe('CREATE_TIME');
      }
    }
    // Batches of a partition follow each other and start at multiples of the batch size.
    for (const batches of byPartition.values()) {
      batches.forEach((offsets, i) => expect(offsets[0]).toBe(i * 400));
    }
  });

  it('retries a failed batch with backoff and sends a batch that keeps failing to the on-failure destination', async () => {
    // Prepare
    const topic = 'retries';
    await kafka.createTopic(topic, 1);
    await kafka.produce(topic, plainRecords(30));
    const calls = new Map<number, number>();
    const handled: number[][] = [];
    const failed: { offsets: number[]; error: string }[] = [];

    // Act
    const mapping = await startEventSourceMapping({
      brokers: [kafka.broker.bootstrap],
      topic,
      groupId: 'g-retries',
      batchSize: 10,
      batchingWindowMs: 100,
      maxAttempts: 3,
      retryBaseMs: 10,
      onFailure: async (e, err) => {
        failed.push({ offsets: only(e).records.map((r) => r.offset), error: (err as Error).message });
      },
      handler: async (e) => {
        const first = only(e).records[0]!.offset;
        const n = (calls.get(first) ?? 0) + 1;
        calls.set(first, n);
        if (first === 0 && n === 1) throw new Error('transient: S3 unavailable');
        if (first === 10) throw new Error('permanent: broken batch');
        handled.push(values(e));
      },
    });
    await mapping.drained(30_000);
    await mapping.stop();

    // Assess
    expect(calls).toEqual(
      new Map([
        [0, 2],
        [10, 3],
        [20, 1],
      ]),
    );
    expect(handled.flat()).toEqual([
      ...Array.from({ length: 10 }, (_, i) => i),
      ...Array.from({ length: 10 }, (_, i) => 20 + i),
    ]);
    expect(failed).toEqual([
      { offsets: Array.from({ length: 10 }, (_, i) => 10 + i), error: 'permanent: broken batch' },
    ]);
    expect(mapping.stats()).toEqual({ batches: 3, records: 30, failures: 4, sentToOnFailure: 1 });
  });

  it('commits only after success: a restarted mapping resumes at the first uncommitted batch', async () => {
    // Prepare
    const topic = 'restart';
    await kafka.createTopic(topic, 1);
    await kafka.produce(topic, plainRecords(50));
    const first: number[][] = [];
    let failing!: () => void;
    const failingStarted = new Promise<void>((resolve) => (failing = resolve));
    const a = await startEventSourceMapping({
      brokers: [kafka.broker.bootstrap],
      topic,
      groupId: 'g-restart',
      batchSize: 10,
      batchingWindowMs: 100,
      maxAttempts: 1000,
      retryBaseMs: 20,
      onFailure: noFailure,
      handler: async (e) => {
        if (first.length === 2) {
          failing();
          throw new Error('down');
        }
        first.push(values(e));
      },
    });
    await failingStarted;
    await a.stop();
    const second: number[][] = [];

    // Act
    const b = await startEventSourceMapping({
      brokers: [kafka.broker.bootstrap],
      topic,
      groupId: 'g-restart',
      batchSize: 10,
      batchingWindowMs: 100,
      onFailure: noFailure,
      handler: async (e) => {
        second.push(values(e));
      },
    });
    await b.drained(30_000);
    await b.stop();

    // Assess
    expect(first.map((v) => v[0])).toEqual([0, 10]);
    expect(second.map((v) => v[0])).toEqual([20, 30, 40]);
    expect([...first, ...second].flat()).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('starts a new group at the end of the topic with LATEST', async () => {
    // Prepare
    const topic = 'latest';
    await kafka.createTopic(topic, 1);
    await kafka.produce(topic, plainRecords(5));
    const seen: number[] = [];
    const mapping = await startEventSourceMapping({
      brokers: [kafka.broker.bootstrap],
      topic,
      groupId: 'g-latest',
      startingPosition: 'LATEST',
      batchingWindowMs: 50,
      onFailure: noFailure,
      handler: async (e) => {
        seen.push(...values(e));
      },
    });

    // Act
    await kafka.produce(topic, plainRecords(5, undefined, 5));
    await mapping.drained(30_000);
    await mapping.stop();

    // Assess
    expect(seen).toEqual([5, 6, 7, 8, 9]);
  });

  it('rejects a batch size outside 1..10000', async () => {
    // Act / Assess
    await expect(
      startEventSourceMapping({
        brokers: [kafka.broker.bootstrap],
        topic: 'x',
        groupId: 'g',
        batchSize: 0,
        onFailure: noFailure,
        handler: async () => {},
      }),
    ).rejects.toBeInstanceOf(UsageError);
  });
});
