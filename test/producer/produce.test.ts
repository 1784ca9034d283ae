/**
 * The producer against the real local broker: produceRecords (keys, order, timestamps, gzip), the
 * scheduled Lambda handler, and `mds produce` (events, rate pacing, and a clear error when the broker is down).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Partitioners, type Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducerHandler, producerConfig } from '../../lambdas/producer/handler.ts';
import { produceRecords } from '../../lambdas/core/produce.ts';
import { ConfigError } from '../../lambdas/core/errors.ts';
import { simulate } from '../../lambdas/core/simulator/index.ts';
import { startBroker, type RunningBroker } from '../../localstack/broker/index.ts';
import { PROJECT_ROOT } from '../../localstack/paths.ts';
import { tempDir, testKafka, until } from '../broker/helpers.ts';

interface Received {
  partition: number;
  key: string | null;
  value: string;
  timestamp: number;
}

async function readAll(kafka: Kafka, topic: string, expected: number): Promise<Received[]> {
  const out: Received[] = [];
  // A short long-poll, so disconnect() does not wait out a 5 s fetch.
  const consumer = kafka.consumer({ groupId: `reader-${topic}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      out.push({
        partition,
        key: message.key?.toString() ?? null,
        value: message.value!.toString(),
        timestamp: Number(message.timestamp),
      });
    },
  });
  await until(() => out.length >= expected, `${expected} records on ${topic}`);
  await consumer.disconnect();
  return out;
}

function mds(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/mds.mjs'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('producer', () => {
  const data = tempDir('producer');
  let broker: RunningBroker;
  let kafka: Kafka;

  beforeAll(async () => {
    broker = await startBroker({ dataDir: data.dir, port: 0 });
    kafka = testKafka(broker.bootstrap).kafka;
  });
  afterAll(async () => {
    await broker.close();
    data.remove();
  });

  it('sends keyed, gzip-compressed records in order, stamped with their send time', async () => {
    // Prepare
    const base = Date.UTC(2026, 10, 23, 8);
    const records = Array.from({ length: 2_500 }, (_, i) => ({
      key: `user-${i % 13}`,
      value: JSON.stringify({ n: i }),
      sendTime: new Date(base + i * 1000),
    }));
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const progress: number[] = [];

    // Act
    const result = await produceRecords(producer, 'ordered', records, {
      batchSize: 1000,
      onProgress: (n) => progress.push(n),
    });
    await producer.disconnect();
    const got = await readAll(kafka, 'ordered', records.length);

    // Assess
    expect(result.sent).toBe(2_500);
    expect(progress).toEqual([1000, 2000, 2500]);
    expect(got).toHaveLength(2_500);
    for (const r of got) expect(r.timestamp).toBe(base + (JSON.parse(r.value) as { n: number }).n * 1000);
    const byKey = new Map<string, Received[]>();
    for (const r of got) byKey.set(r.key!, [...(byKey.get(r.key!) ?? []), r]);
    for (const list of byKey.values()) {
      expect(new Set(list.map((r) => r.partition)).size).toBe(1);
      const ns = list.map((r) => (JSON.parse(r.value) as { n: number }).n);
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
    }
    // Record batch attributes (offset 21, low three bits = codec): 1 is gzip.
    const log = readFileSync(path.join(data.dir, 'topics', 'ordered', `${got[0]!.partition}.log`));
    expect(log.readInt16BE(21) & 7).toBe(1);
  });

  it('sends each value as its UTF-8 bytes, whatever its characters and length', async () => {
    // Prepare: multi-byte characters, a lone surrogate (sent as U+FFFD, as kafkajs sends a string), and
    // values longer than the producer's value buffers.
    const values = [
      '{"track":"Café del Mar","artist":"Sigur Rós"}',
      '{"track":"夜に駆ける","emoji":"🎧🎶"}',
      '{"broken":"\ud800"}',
      'x'.repeat(300_000),
      `{"long":"${'ü'.repeat(200_000)}"}`,
      '',
      ...Array.from({ length: 1_500 }, (_, i) => `{"n":${i},"s":"${'ñ'.repeat(i % 300)}"}`),
    ];
    const records = values.map((value, i) => ({ key: `k${i % 7}`, value, sendTime: new Date(1e12 + i) }));
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();

    // Act
    await produceRecords(producer, 'utf8', records, { batchSize: 500 });
    await producer.disconnect();
    const got = await readAll(kafka, 'utf8', records.length);

    // Assess
    const sent = new Map(records.map((r) => [r.sendTime.getTime(), Buffer.from(r.value).toString()]));
    expect(got).toHaveLength(records.length);
    for (const r of got) expect(r.value).toBe(sent.get(r.timestamp));
  });

  it('the Lambda handler sends EVENTS_PER_INVOCATION simulated events', async () => {
    // Prepare
    const handler = createProducerHandler({
      env: {
        KAFKA_BROKERS: broker.bootstrap,
        KAFKA_AUTH: 'plaintext',
        KAFKA_TOPIC: 'lambda',
        EVENTS_PER_INVOCATION: '300',
      },
      now: () => new Date('2026-11-23T09:00:00Z'),
    });

    // Act
    const result = await handler();
    const got = await readAll(kafka, 'lambda', 300);

    // Assess
    expect(result.sent).toBe(300);
    expect(got).toHaveLength(300);
    for (const r of got) {
      expect(r.timestamp).toBeGreaterThanOrEqual(Date.parse('2026-11-23T08:59:00Z'));
      expect(r.timestamp).toBeLessThan(Date.parse('2026-11-23T09:00:00Z'));
    }
  });

  it('rejects missing or invalid producer settings, naming the setting', () => {
    expect(() => producerConfig({})).toThrow(ConfigError);
    expect(() => producerConfig({})).toThrow(/KAFKA_BROKERS/);
    expect(() =>
      producerConfig({ KAFKA_BROKERS: 'b:9098', AWS_REGION: 'eu-west-1', EVENTS_PER_INVOCATION: 'x' }),
    ).toThrow(/EVENTS_PER_INVOCATION/);
    expect(() => producerConfig({ KAFKA_BROKERS: 'b:9098' })).toThrow(/AWS_REGION/);
  });

  it('`mds produce --events` sends exactly what `simulate` generates for the same seed', async () => {
    // Prepare
    const args = [
      '--events',
      '2000',
      '--seed',
      '7',
      '--start',
      '2026-11-23T00:00:00Z',
      '--end',
      '2026-11-23T06:00:00Z',
    ];

    // Act
    const run = await mds(['produce', '--brokers', broker.bootstrap, '--topic', 'cli', ...args]);
    const got = await readAll(kafka, 'cli', 2000);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/events\s+2,000/);
    const expected = [
      ...simulate({
        seed: 7,
        events: 2000,
        start: new Date('2026-11-23T00:00:00Z'),
        end: new Date('2026-11-23T06:00:00Z'),
      }).records(),
    ];
    expect(got.map((r) => r.value).sort()).toEqual(expected.map((r) => r.value).sort());
  });

  it('`mds produce --rate --duration` sends rate x duration events', async () => {
    // Act
    const run = await mds([
      'produce',
      '--brokers',
      broker.bootstrap,
      '--topic',
      'paced',
      '--rate',
      '200',
      '--duration',
      '1s',
    ]);
    const got = await readAll(kafka, 'paced', 200);

    // Assess
    expect(run.code).toBe(0);
    expect(got).toHaveLength(200);
  });

  it('`mds produce` gives up with a clear error naming the broker when none is listening', async () => {
    // Prepare: a port that was free a moment ago.
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((r) => server.close(r));

    // Act
    const run = await mds(['produce', '--brokers', `127.0.0.1:${port}`, '--events', '10', '--retries', '1']);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Kafka at 127.0.0.1:${port}`);
    expect(run.stderr).toContain('mds broker start');
  });

  it('`mds produce` names the missing topic when the broker does not create topics', async () => {
    // Prepare
    const strictData = tempDir('producer-strict');
    const strict = await startBroker({ dataDir: strictData.dir, port: 0, autoCreateTopics: false });

    // Act
    const run = await mds([
      'produce',
      '--brokers',
      strict.bootstrap,
      '--topic',
      'absent',
      '--events',
      '5',
      '--retries',
      '1',
    ]);
    await strict.close();
    strictData.remove();

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Kafka at ${strict.bootstrap}: topic "absent" is missing`);
  });

  it('`mds produce` refuses conflicting flags with a usage error', async () => {
    const run = await mds(['produce', '--events', '10', '--rate', '5']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--rate and --duration go together/);
  });
});
