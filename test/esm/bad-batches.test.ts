/**
 * The local mapping against the real broker with batches that are not plain gzip: kcat's gzip, snappy, lz4
 * and zstd batches all land; among valid traffic, a zstd batch lands and bad batches are refused by the
 * broker while every valid record before and after them lands; a batch the broker holds but nobody can
 * decode (a log written before the broker validated batches) goes to the S3 on-failure destination with its
 * offsets and the error, and the records before and after it, and those of the other partition, all land.
 */
import { appendFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../lambdas/core/kafka.ts';
import { getObjectBytes, listAllObjects } from '../../lambdas/core/s3.ts';
import { produceRecords } from '../../lambdas/core/produce.ts';
import { startBroker } from '../../localstack/broker/index.ts';
import { startEventSourceMapping, type MskEvent } from '../../localstack/esm/index.ts';
import { ESM_FAILURES_PREFIX, s3OnFailure, type FailedBatchRecord } from '../../localstack/esm/on-failure.ts';
import { startLocalS3, type LocalS3 } from '../../localstack/s3-server.ts';
import { kcat } from '../broker/kcat.ts';
import { produceFrame, produceResult, RawClient, recordBatch, recordsOf } from '../broker/raw.ts';
import { plainRecords, quietKafkaLogger, startTestBroker, type TestBroker } from './helpers.ts';

function valuesOf(event: MskEvent): number[] {
  return Object.values(event.records).flatMap((records) =>
    records.map((r) => (JSON.parse(Buffer.from(r.value!, 'base64').toString()) as { n: number }).n),
  );
}

const noFailure = async (): Promise<void> => {
  throw new Error('unexpected on-failure call');
};

describe('local mapping and compressed batches from kcat', () => {
  let kafka: TestBroker;
  beforeAll(async () => {
    kafka = await startTestBroker();
  });
  afterAll(async () => {
    await kafka?.close();
  });

  it('invokes the handler with every record of gzip, snappy, lz4 and zstd batches', async () => {
    // Prepare: 300 records per codec, keyed over both partitions, values that compress.
    const topic = 'codecs';
    await kafka.createTopic(topic, 2);
    const codecs = ['gzip', 'snappy', 'lz4', 'zstd'];
    for (const [c, codec] of codecs.entries()) {
      const lines = Array.from(
        { length: 300 },
        (_, i) => `k${i % 10}:${JSON.stringify({ n: c * 300 + i, codec, pad: 'x'.repeat(40) })}`,
      );
      await kcat(
        ['-b', kafka.broker.bootstrap, '-P', '-t', topic, '-K', ':', '-z', codec],
        `${lines.join('\n')}\n`,
      );
    }
    const seen: number[] = [];

    // Act
    const mapping = await startEventSourceMapping({
      brokers: [kafka.broker.bootstrap],
      topic,
      groupId: 'g-codecs',
      batchSize: 100,
      batchingWindowMs: 100,
      onFailure: noFailure,
      handler: async (e) => {
        seen.push(...valuesOf(e));
      },
    });
    await mapping.drained(40_000);
    await mapping.stop();

    // Assess
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 1200 }, (_, i) => i));
    expect(mapping.stats()).toMatchObject({ records: 1200, failures: 0, sentToOnFailure: 0 });
  });
});

describe('local mapping among valid traffic with bad batches', () => {
  let kafka: TestBroker;
  beforeAll(async () => {
    kafka = await startTestBroker();
  });
  afterAll(async () => {
    await kafka?.close();
  });

  it('lands every valid record before and after a zstd batch and three batches the broker refuses', async () => {
    // Prepare: 500 records, a zstd batch from kcat, a wrong CRC, corrupt gzip and a wrong record count (one
    // per partition, sent on a raw socket), then 1,000 records more.
    const topic = 'mixed';
    await kafka.createTopic(topic, 3);
    await kafka.produce(topic, plainRecords(500));
    const zstdLines = Array.from({ length: 100 }, (_, i) => `k${i % 10}:${JSON.stringify({ n: 500 + i })}`);
    await kcat(
      ['-b', kafka.broker.bootstrap, '-P', '-t', topic, '-K', ':', '-z', 'zstd'],
      `${zstdLines.join('\n')}\n`,
    );
    const corrupt = Buffer.from(zlib.gzipSync(recordsOf(['x0', 'x1'])));
    for (let i = 12; i < corrupt.length - 8; i += 3) corrupt[i] = corrupt[i]! ^ 0x5a;
    const bad = [
      recordBatch({ values: ['x0', 'x1'], badCrc: true }),
      recordBatch({ values: ['x0', 'x1'], codec: 1, body: corrupt }),
      recordBatch({ values: ['x0', 'x1'], count: 3 }),
    ];
    const raw = new RawClient(kafka.broker.port);
    const refused: number[] = [];
    for (const [partition, batch] of bad.entries()) {
      await raw.send(produceFrame(7, partition, topic, partition, batch));
      refused.push(produceResult((await raw.response())!.body, topic).error);
    }
    raw.end();
    await kafka.produce(topic, plainRecords(1000, undefined, 600));
    const seen: number[] = [];

    // Act
    const mapping = await startEventSourceMapping({
      brokers: [kafka.broker.bootstrap],
      topic,
      groupId: 'g-mixed',
      batchSize: 200,
      batchingWindowMs: 100,
      onFailure: noFailure,
      handler: async (e) => {
        seen.push(...valuesOf(e));
      },
    });
    await mapping.drained(40_000);
    await mapping.stop();

    // Assess
    expect(refused).toEqual([2, 2, 87]);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 1600 }, (_, i) => i));
    expect(mapping.stats()).toMatchObject({ records: 1600, failures: 0, sentToOnFailure: 0 });
  });
});

describe('local mapping and a batch it cannot decode', () => {
  const temp: string[] = [];
  let s3Server: LocalS3;
  let s3: S3Client;
  const bucket = 'landing';

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'esm-s3-'));
    temp.push(dir);
    s3Server = await startLocalS3({ directory: dir, buckets: [bucket] });
    s3 = s3Server.client();
  });
  afterAll(async () => {
    s3?.destroy();
    await s3Server?.close();
    for (const d of temp) await rm(d, { recursive: true, force: true });
  });

  it('sends it to the on-failure destination with its offsets and the error, and lands everything else', async () => {
    // Prepare: 200 records over two partitions; between them, on partition 0, a gzip batch whose compressed
    // bytes are corrupt (its CRC matches them), written to the log as a broker that did not validate would.
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'esm-poison-'));
    temp.push(dataDir);
    const topic = 'poison';
    let broker = await startBroker({ dataDir, port: 0 });
    let client = createKafka({ brokers: [broker.bootstrap], clientId: 'test', logger: quietKafkaLogger });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    let producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await produceRecords(producer, topic, plainRecords(100));
    await producer.disconnect();
    const p0End = Number((await admin.fetchTopicOffsets(topic)).find((p) => p.partition === 0)!.high);
    await admin.disconnect();
    await broker.close();
    const corrupt = Buffer.from(zlib.gzipSync(recordsOf(['x0', 'x1', 'x2'])));
    for (let i = 12; i < corrupt.length - 8; i += 3) corrupt[i] = corrupt[i]! ^ 0x5a;
    const bad = recordBatch({ values: ['x0', 'x1', 'x2'], codec: 1, body: corrupt });
    bad.writeBigInt64BE(BigInt(p0End), 0);
    appendFileSync(path.join(dataDir, 'topics', topic, '0.log'), bad);
    broker = await startBroker({ dataDir, port: 0 });
    client = createKafka({ brokers: [broker.bootstrap], clientId: 'test', logger: quietKafkaLogger });
    producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await produceRecords(producer, topic, plainRecords(100, undefined, 100));
    await producer.disconnect();
    const seen: number[] = [];
    const logs: string[] = [];

    // Act
    const mapping = await startEventSourceMapping({
      brokers: [broker.bootstrap],
      topic,
      groupId: 'g-poison',
      batchSize: 50,
      batchingWindowMs: 100,
      onFailure: s3OnFailure(s3, bucket),
      handler: async (e) => {
        seen.push(...valuesOf(e));
      },
      log: (m) => logs.push(m),
    });
    try {
      await mapping.drained(40_000);
    } finally {
      await mapping.stop();
      await broker.close();
    }
    const failures = await listAllObjects(s3, bucket, ESM_FAILURES_PREFIX);
    const records = await Promise.all(
      failures.map(
        async (o) =>
          JSON.parse(Buffer.from(await getObjectBytes(s3, bucket, o.key)).toString()) as FailedBatchRecord,
      ),
    );

    // Assess
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(failures.map((o) => o.key)).toEqual([`${ESM_FAILURES_PREFIX}poison-0-${p0End}-${p0End + 2}.json`]);
    expect(records[0]).toMatchObject({
      condition: 'UndecodableBatch',
      topicPartition: 'poison-0',
      firstOffset: p0End,
      lastOffset: p0End + 2,
      records: 3,
      event: { eventSource: 'aws:kafka', records: { 'poison-0': [] } },
    });
    expect(records[0]!.error).toMatch(
      new RegExp(`^the records of poison-0 offsets ${p0End}\\.\\.${p0End + 2} cannot be decoded: .+`),
    );
    expect(mapping.stats()).toMatchObject({ records: 203, sentToOnFailure: 1, failures: 0 });
    expect(logs.some((l) => /consumer crashed/.test(l))).toBe(false);
  });
});
