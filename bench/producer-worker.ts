/** One producer client of the broker bench's parallel run, on a worker thread: sends its share, reports the time. */
import '../lambdas/core/polyfills.ts';
import { parentPort, workerData } from 'node:worker_threads';
import { produceRecords } from '../lambdas/core/produce.ts';
import { createKafka, createProducer } from '../lambdas/core/kafka.ts';

const { bootstrap, topic, records } = workerData as {
  bootstrap: string;
  topic: string;
  records: { key: string; value: string; sendTime: number }[];
};
const producer = createProducer(createKafka({ brokers: [bootstrap], clientId: 'bench-parallel' }));
await producer.connect();
parentPort?.postMessage({ type: 'ready' });
await new Promise((resolve) => parentPort?.once('message', resolve));
const result = await produceRecords(
  producer,
  topic,
  records.map((r) => ({ ...r, sendTime: new Date(r.sendTime) })),
  { batchSize: 1000 },
);
await producer.disconnect();
parentPort?.postMessage({ type: 'done', sent: result.sent });
