/**
 * Produces simulated events from a worker thread, so that on a laptop the producer (kafkajs encoding is
 * about 20 µs per event) and the broker, event source mapping and consumer on the main thread use two cores.
 * Receives the simulation and the broker address; posts progress, then the result or the error.
 */
import '../../lambdas/core/polyfills.ts';
import { parentPort, workerData } from 'node:worker_threads';
import { createKafka, createProducer } from '../../lambdas/core/kafka.ts';
import { produceRecords } from '../../lambdas/core/produce.ts';
import { simulate } from '../../lambdas/core/simulator/index.ts';
import { errorMessage } from '../../lambdas/core/errors.ts';

export interface ProduceWorkerInput {
  readonly bootstrap: string;
  readonly topic: string;
  /** SimulatorOptions with the window as ISO strings (structured clone keeps Dates, but be explicit). */
  readonly simulation: Omit<Parameters<typeof simulate>[0], 'start' | 'end'> & { start: string; end: string };
}

export type ProduceWorkerMessage =
  | { readonly type: 'progress'; readonly sent: number }
  | { readonly type: 'done'; readonly sent: number; readonly seconds: number }
  | { readonly type: 'error'; readonly message: string };

const input = workerData as ProduceWorkerInput;
const post = (m: ProduceWorkerMessage) => parentPort?.postMessage(m);
// A failed produce reaches the parent as one message, which `local up` reports on one line; kafkajs's own
// retry lines before it (one per attempt) are shown only with MDS_DEBUG, as the CLI's are.
const quiet = { warn: () => undefined, error: () => undefined };
const kafka = createKafka({
  brokers: input.bootstrap.split(','),
  clientId: 'mds-local-producer',
  ...(process.env.MDS_DEBUG ? {} : { logger: quiet }),
});
const producer = createProducer(kafka);
try {
  await producer.connect();
  const run = simulate({
    ...input.simulation,
    start: new Date(input.simulation.start),
    end: new Date(input.simulation.end),
  });
  const result = await produceRecords(producer, input.topic, run.records(), {
    batchSize: 2000,
    onProgress: (sent) => post({ type: 'progress', sent }),
  });
  post({ type: 'done', ...result });
} catch (err) {
  post({ type: 'error', message: errorMessage(err) });
} finally {
  await producer.disconnect().catch(() => undefined);
}
