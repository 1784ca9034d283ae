/**
 * The consumer Lambda's local execution environments: `count` worker threads, each running the real
 * handler (consumer-worker.ts). The event source mapping invokes partitions concurrently, as Lambda does
 * with one environment per concurrent invocation; each invocation goes to an idle thread, or waits for one.
 * Off the main thread, landing no longer competes with the broker client, the mapping and the S3 server.
 */
import { Worker } from 'node:worker_threads';
import type { ConsumerConfig, ConsumerSummary } from '../../lambdas/consumer/handler.ts';
import type { MskEvent } from '../../lambdas/consumer/msk-event.ts';
import { MdsError } from '../../lambdas/shared/errors.ts';
import type { ConsumerWorkerInput, ConsumerWorkerReply } from './consumer-worker.ts';

export interface ConsumerThreads {
  invoke(event: MskEvent): Promise<ConsumerSummary>;
  close(): Promise<void>;
}

/** The error a handler threw in its thread, with its name and message (its class stays behind). */
export class ConsumerInvocationError extends MdsError {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

export async function startConsumerThreads(options: {
  readonly s3Endpoint: string;
  readonly config: ConsumerConfig;
  readonly count: number;
}): Promise<ConsumerThreads> {
  if (!Number.isInteger(options.count) || options.count < 1) {
    throw new RangeError(`consumer threads must be a positive integer, got ${options.count}`);
  }
  const input: ConsumerWorkerInput = { s3Endpoint: options.s3Endpoint, config: options.config };
  const pending = new Map<number, { resolve: (s: ConsumerSummary) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  const start = (): Promise<Worker> =>
    new Promise((resolve, reject) => {
      // The worker runs TypeScript like the rest of the CLI, through tsx (consumer-worker.mjs registers it).
      const worker = new Worker(new URL('./consumer-worker.mjs', import.meta.url), { workerData: input });
      worker.on('message', (m: ConsumerWorkerReply | { ready: true }) => {
        if ('ready' in m) return resolve(worker);
        const call = pending.get(m.id);
        pending.delete(m.id);
        if ('summary' in m) call?.resolve(m.summary);
        else call?.reject(new ConsumerInvocationError(m.error.name, m.error.message));
      });
      worker.once('error', reject);
      worker.once('exit', (code) => {
        const err = new MdsError(`a consumer thread exited with code ${code}`);
        reject(err);
        for (const call of pending.values()) call.reject(err);
        pending.clear();
      });
    });
  const workers = await Promise.all(Array.from({ length: options.count }, start));
  const idle = [...workers];
  const waiting: ((w: Worker) => void)[] = [];
  const acquire = (): Promise<Worker> =>
    idle.length > 0 ? Promise.resolve(idle.pop()!) : new Promise((resolve) => waiting.push(resolve));
  const release = (w: Worker): void => {
    const next = waiting.shift();
    if (next) next(w);
    else idle.push(w);
  };
  return {
    invoke: async (event) => {
      const worker = await acquire();
      try {
        const id = nextId++;
        return await new Promise<ConsumerSummary>((resolve, reject) => {
          pending.set(id, { resolve, reject });
          worker.postMessage({ id, event });
        });
      } finally {
        release(worker);
      }
    },
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
