/**
 * The consumer Lambda's local execution environments: `count` worker threads, each running the real
 * handler (consumer-worker.ts). The event source mapping invokes partitions concurrently, as Lambda does
 * with one environment per concurrent invocation; each invocation goes to an idle thread, or waits for one.
 * Off the main thread, landing no longer competes with the broker client, the mapping and the S3 server.
 * A thread that dies fails its invocation (the mapping retries it) and is replaced, as Lambda replaces a
 * crashed environment.
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

interface Invocation {
  readonly resolve: (s: ConsumerSummary) => void;
  readonly reject: (e: Error) => void;
}

export async function startConsumerThreads(options: {
  readonly s3Endpoint: string;
  readonly config: ConsumerConfig;
  readonly count: number;
  /** The worker module. @default consumer-worker.mjs (the real handler); tests pass a thread that misbehaves. */
  readonly entry?: URL;
}): Promise<ConsumerThreads> {
  if (!Number.isInteger(options.count) || options.count < 1) {
    throw new RangeError(`consumer threads must be a positive integer, got ${options.count}`);
  }
  const input: ConsumerWorkerInput = { s3Endpoint: options.s3Endpoint, config: options.config };
  /** The invocation each busy thread is running (one at a time per thread). */
  const running = new Map<Worker, Invocation>();
  const live = new Set<Worker>();
  const idle: Worker[] = [];
  const waiting: { resolve: (w: Worker) => void; reject: (e: Error) => void }[] = [];
  let closing = false;

  const release = (w: Worker): void => {
    const next = waiting.shift();
    if (next) next.resolve(w);
    else idle.push(w);
  };
  const start = (): Promise<Worker> =>
    new Promise((resolve, reject) => {
      // The worker runs TypeScript like the rest of the CLI, through tsx (consumer-worker.mjs registers it).
      const worker = new Worker(options.entry ?? new URL('./consumer-worker.mjs', import.meta.url), {
        workerData: input,
      });
      live.add(worker);
      let ready = false;
      worker.on('message', (m: ConsumerWorkerReply | { ready: true }) => {
        if ('ready' in m) {
          ready = true;
          return resolve(worker);
        }
        const call = running.get(worker);
        running.delete(worker);
        if ('summary' in m) call?.resolve(m.summary);
        else call?.reject(new ConsumerInvocationError(m.error.name, m.error.message));
      });
      worker.on('error', reject);
      worker.once('exit', (code) => {
        live.delete(worker);
        const err = new MdsError(`a consumer thread exited with code ${code}`);
        reject(err);
        running.get(worker)?.reject(err);
        running.delete(worker);
        const at = idle.indexOf(worker);
        if (at >= 0) idle.splice(at, 1);
        // Replace a thread that was serving, so the next invocation finds an environment. One that died before
        // it was ready is not retried: it would only die again (start-up fails below).
        if (ready && !closing) start().then(release, () => undefined);
      });
    });

  try {
    await Promise.all(Array.from({ length: options.count }, () => start().then(release)));
  } catch (err) {
    closing = true;
    await Promise.all([...live].map((w) => w.terminate()));
    throw err;
  }
  return {
    invoke: async (event) => {
      if (closing) throw new MdsError('the consumer threads are closed');
      const worker =
        idle.pop() ?? (await new Promise<Worker>((resolve, reject) => waiting.push({ resolve, reject })));
      try {
        return await new Promise<ConsumerSummary>((resolve, reject) => {
          running.set(worker, { resolve, reject });
          worker.postMessage({ event });
        });
      } finally {
        if (live.has(worker)) release(worker);
      }
    },
    close: async () => {
      closing = true;
      for (const w of waiting.splice(0)) w.reject(new MdsError('the consumer threads are closed'));
      await Promise.all([...live].map((w) => w.terminate()));
    },
  };
}
