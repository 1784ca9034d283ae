/** Runs startBroker inside the worker thread of thread.ts and relays its log, start and close. */
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../../lambdas/core/errors.ts';
import { startBroker, type BrokerOptions } from './index.ts';

const port = parentPort;
try {
  const broker = await startBroker({
    ...(workerData as BrokerOptions),
    log: (line) => port?.postMessage({ type: 'log', line }),
  });
  port?.postMessage({ type: 'started', port: broker.port, bootstrap: broker.bootstrap });
  port?.on('message', (m: { type: string }) => {
    if (m.type === 'close') void broker.close().then(() => port.postMessage({ type: 'closed' }));
  });
} catch (err) {
  port?.postMessage({ type: 'error', message: errorMessage(err) });
}
