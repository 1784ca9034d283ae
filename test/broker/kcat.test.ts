/**
 * An independent client: kcat (librdkafka) lists metadata, produces, consumes and joins a consumer group
 * through the broker, and interoperates with kafkajs on the same topic (gzip batches both ways, CRCs checked).
 */
import { CompressionTypes } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createProducer, partitionForKey } from '../../lambdas/core/kafka.ts';
import { suiteBroker, testKafka } from './helpers.ts';
import { kcat } from './kcat.ts';

describe('kcat (librdkafka) against the broker', () => {
  const broker = suiteBroker('broker-kcat');

  it('produces keyed messages to an auto-created topic and lists its metadata', async () => {
    // Prepare
    const lines = Array.from({ length: 300 }, (_, i) => `k${i}:v${i}`).join('\n');

    // Act
    await kcat(['-b', broker.bootstrap, '-P', '-t', 'kcat-topic', '-K', ':'], `${lines}\n`);
    const meta = JSON.parse(await kcat(['-b', broker.bootstrap, '-L', '-J', '-t', 'kcat-topic'])) as {
      brokers: { id: number; name: string }[];
      topics: { topic: string; partitions: { partition: number; leader: number }[] }[];
    };

    // Assess
    expect(meta.brokers).toEqual([{ id: 0, name: broker.bootstrap }]);
    expect(meta.topics.map((t) => [t.topic, t.partitions.map((p) => p.partition)])).toEqual([
      ['kcat-topic', [0, 1, 2]],
    ]);
  });

  it('consumes with offsets from the beginning, and kafkajs reads the same records', async () => {
    // Act
    const out = await kcat([
      '-b',
      broker.bootstrap,
      '-C',
      '-t',
      'kcat-topic',
      '-o',
      'beginning',
      '-e',
      '-f',
      '%k=%s\n',
    ]);
    const { kafka } = testKafka(broker.bootstrap);
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets('kcat-topic');
    await admin.disconnect();

    // Assess
    const got = out.trim().split('\n').sort();
    expect(got).toEqual(Array.from({ length: 300 }, (_, i) => `k${i}=v${i}`).sort());
    expect(ends.reduce((sum, p) => sum + Number(p.high), 0)).toBe(300);
  });

  it('joins a consumer group (-G), checks the CRCs of gzip batches written by the producer and commits', async () => {
    // Prepare: the pipeline's producer (patched kafkajs record encoding, Java-compatible partitioner), with
    // record timestamps and, on some records, headers.
    const { kafka } = testKafka(broker.bootstrap);
    const producer = createProducer(kafka);
    await producer.connect();
    const sent = Array.from({ length: 500 }, (_, i) => ({
      key: `u${i % 7}`,
      value: `m${i}`,
      timestamp: String(1_760_000_000_000 + i * 1_000),
      ...(i % 5 === 0 ? { headers: { origin: `h${i}` } } : {}),
    }));
    await producer.send({
      topic: 'from-kafkajs',
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages: sent,
    });
    await producer.disconnect();

    // Act: librdkafka verifies each batch's CRC32C when check.crcs is on.
    const out = await kcat([
      '-b',
      broker.bootstrap,
      '-X',
      'check.crcs=true',
      '-G',
      'kcat-group',
      '-o',
      'beginning',
      '-e',
      '-f',
      '%p|%k|%T|%h|%s\n',
      'from-kafkajs',
    ]);
    const admin = kafka.admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId: 'kcat-group', topics: ['from-kafkajs'] });
    await admin.disconnect();

    // Assess: every record, in the partition any Kafka client would pick for its key, with its timestamp
    // and headers.
    const expected = sent.map(
      (m) =>
        `${partitionForKey(m.key, 3)}|${m.key}|${m.timestamp}|${m.headers ? `origin=${m.headers.origin}` : ''}|${m.value}`,
    );
    expect(out.trim().split('\n').sort()).toEqual(expected.sort());
    const sum = committed[0]!.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
    expect(sum).toBe(500);
  });
});
