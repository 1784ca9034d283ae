/**
 * Storage across restarts of the in-process broker: topics, records and offsets come back, a torn tail
 * left by a crash mid-write is cut off, and CreateTopics reports existing topics and bad arguments.
 */
import { appendFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Partitioners } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { startBroker } from '../../localstack/broker/index.ts';
import { tempDir, testKafka } from './helpers.ts';

describe('broker storage', () => {
  const data = tempDir('broker-storage');
  afterAll(() => data.remove());

  it('recovers topics and records after a restart and cuts a torn tail', async () => {
    // Prepare
    const logs: string[] = [];
    let broker = await startBroker({ dataDir: data.dir, port: 0, log: (l) => logs.push(l) });
    let { kafka } = testKafka(broker.bootstrap);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({
      topic: 'durable',
      acks: -1,
      messages: Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
    });
    await producer.disconnect();
    await broker.close();
    const logFile = path.join(data.dir, 'topics', 'durable', '0.log');
    const sizeBefore = statSync(logFile).size;
    // A crash mid-write: a batch header promising 500 bytes, followed by only a few.
    const torn = Buffer.alloc(70);
    torn.writeInt32BE(500, 8);
    torn.writeInt8(2, 16);
    appendFileSync(logFile, torn);

    // Act
    broker = await startBroker({ dataDir: data.dir, port: 0, log: (l) => logs.push(l) });
    const sizeAfterRestart = statSync(logFile).size;
    ({ kafka } = testKafka(broker.bootstrap));
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets('durable');
    const again = await admin.createTopics({ topics: [{ topic: 'durable', numPartitions: 3 }] });
    const created = await admin.createTopics({ topics: [{ topic: 'fresh', numPartitions: 5 }] });
    const invalid = await admin.createTopics({ topics: [{ topic: 'bad/name', numPartitions: 1 }] }).then(
      () => 'accepted',
      (e: { errors?: { type: string }[] }) => e.errors?.map((x) => x.type).join(','),
    );
    await admin.createPartitions({ topicPartitions: [{ topic: 'fresh', count: 7 }] });
    const shrink = await admin.createPartitions({ topicPartitions: [{ topic: 'fresh', count: 2 }] }).then(
      () => 'accepted',
      (e: { type?: string }) => e.type,
    );
    const meta = await admin.fetchTopicMetadata({ topics: ['fresh'] });
    const producer2 = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer2.connect();
    await producer2.send({ topic: 'durable', acks: -1, messages: [{ key: 'k0', value: 'after restart' }] });
    await producer2.disconnect();
    const offsetsAfter = await admin.fetchTopicOffsets('durable');
    await admin.disconnect();
    await broker.close();

    // Assess
    expect(offsets.reduce((s, p) => s + Number(p.high), 0)).toBe(300);
    expect(sizeAfterRestart).toBe(sizeBefore);
    expect(offsetsAfter.reduce((s, p) => s + Number(p.high), 0)).toBe(301);
    expect(logs.some((l) => l.includes('cut a torn tail of 70 bytes'))).toBe(true);
    expect(again).toBe(false);
    expect(created).toBe(true);
    expect(invalid).toBe('INVALID_TOPIC_EXCEPTION');
    expect(meta.topics[0]!.partitions).toHaveLength(7);
    expect(shrink).toBe('INVALID_PARTITIONS');
    expect(readdirSync(path.join(data.dir, 'topics')).sort()).toEqual(['durable', 'fresh']);
  });

  it('finds offsets by timestamp (ListOffsets), batch by batch', async () => {
    // Prepare: three batches in partition 0, one second apart.
    const broker = await startBroker({ dataDir: data.dir, port: 0 });
    const { kafka } = testKafka(broker.bootstrap);
    const t0 = Date.UTC(2026, 10, 23, 10);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    for (let b = 0; b < 3; b++) {
      await producer.send({
        topic: 'timed',
        acks: -1,
        messages: Array.from({ length: 10 }, (_, i) => ({
          partition: 0,
          value: `${b}-${i}`,
          timestamp: String(t0 + b * 1000),
        })),
      });
    }
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();

    // Act
    const atSecond = await admin.fetchTopicOffsetsByTimestamp('timed', t0 + 1000);
    const beforeAll = await admin.fetchTopicOffsetsByTimestamp('timed', t0 - 60_000);
    const afterAll = await admin.fetchTopicOffsetsByTimestamp('timed', t0 + 60_000);
    await admin.disconnect();
    await broker.close();

    // Assess: past the last record kafkajs falls back to the high watermark (the broker answers -1).
    const p0 = (r: { partition: number; offset: string }[]) => r.find((x) => x.partition === 0)!.offset;
    expect(p0(atSecond)).toBe('10');
    expect(p0(beforeAll)).toBe('0');
    expect(p0(afterAll)).toBe('30');
  });
});
