/** Test helpers: a real local broker in a temp directory, and a producer of plain records. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Partitioners, type Producer } from 'kafkajs';
import { startBroker, type RunningBroker } from '../../localstack/broker/index.ts';
import { createKafka } from '../../lambdas/core/kafka.ts';
import { produceRecords } from '../../lambdas/core/produce.ts';

export const quietKafkaLogger = { warn: () => {}, error: () => {} };

export interface TestBroker {
  readonly broker: RunningBroker;
  readonly dir: string;
  readonly producer: Producer;
  createTopic(topic: string, partitions: number): Promise<void>;
  produce(
    topic: string,
    records: Iterable<{ key: string | null; value: string; sendTime: Date }>,
  ): Promise<number>;
  close(): Promise<void>;
}

export async function startTestBroker(): Promise<TestBroker> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'esm-broker-'));
  const broker = await startBroker({ dataDir: dir, port: 0 });
  const kafka = createKafka({ brokers: [broker.bootstrap], clientId: 'test', logger: quietKafkaLogger });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const admin = kafka.admin();
  await admin.connect();
  return {
    broker,
    dir,
    producer,
    async createTopic(topic, partitions) {
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
    },
    async produce(topic, records) {
      return (await produceRecords(producer, topic, records)).sent;
    },
    async close() {
      await producer.disconnect();
      await admin.disconnect();
      await broker.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `count` small JSON records keyed k0..k9, one second apart from `start`. */
export function plainRecords(count: number, start = Date.parse('2026-11-23T10:00:00Z'), from = 0) {
  return Array.from({ length: count }, (_, i) => ({
    key: `k${(from + i) % 10}`,
    value: JSON.stringify({ n: from + i }),
    sendTime: new Date(start + (from + i) * 1000),
  }));
}
