/**
 * The local broker on a thread of its own. In `mds local up` the main thread also runs the event source
 * mapping and the consumer handler, whose batches keep it busy for tens of milliseconds at a time; a broker
 * on that thread would answer the producer's acks=all requests only between them. On its own thread it
 * answers at once, and producing, brokering and landing use the two cores together.
 */
import { Worker } from 'node:worker_threads';
import { MdsError } from '../../lambdas/core/errors.ts';
import { LOCAL_DEFAULTS } from '../paths.ts';
import type { BrokerOptions, RunningBroker } from './index.ts';

type FromWorker =
  | { readonly type: 'started'; readonly port: number; readonly bootstrap: string }
  | { readonly type: 'log'; readonly line: string }
  | { readonly type: 'closed' }
  | { readonly type: 'error'; readonly message: string };

export async function startBrokerThread(options: BrokerOptions): Promise<RunningBroker> {
  const { log, ...workerOptions } = options;
  const worker = new Worker(new URL('./thread-entry.mjs', import.meta.url), {
    workerData: workerOptions,
    resourceLimits: LOCAL_DEFAULTS.threadHeap,
  });
  const started = await new Promise<{ port: number; bootstrap: string }>((resolve, reject) => {
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'started') resolve(m);
      else if (m.type === 'log') log?.(m.line);
      else if (m.type === 'error') reject(new MdsError(m.message));
    });
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new MdsError(`the broker thread exited with code ${code} at start`)),
    );
  });
  let closed: Promise<void> | undefined;
  return {
    port: started.port,
    bootstrap: started.bootstrap,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        worker.on('message', (m: FromWorker) => {
          if (m.type === 'closed') void worker.terminate().then(() => resolve());
        });
        worker.once('exit', () => resolve());
        worker.postMessage({ type: 'close' });
      })),
  };
}
