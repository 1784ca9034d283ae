/**
 * One local "execution environment" of the consumer Lambda: the real handler (lambdas/consumer/handler.ts)
 * on its own thread, writing to the local S3 server over HTTP as the Lambda writes to S3. Invocations
 * arrive one at a time, as Lambda sends them to one environment; the reply is the handler's summary or
 * its error.
 */
import '../../lambdas/shared/polyfills.ts';
import { parentPort, workerData } from 'node:worker_threads';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import {
  createConsumerHandler,
  type ConsumerConfig,
  type ConsumerSummary,
} from '../../lambdas/consumer/handler.ts';
import type { MskEvent } from '../../lambdas/consumer/msk-event.ts';
import { errorMessage } from '../../lambdas/shared/errors.ts';
import { localS3ClientConfig } from '../../lambdas/shared/s3.ts';

export interface ConsumerWorkerInput {
  readonly s3Endpoint: string;
  readonly config: ConsumerConfig;
}

export type ConsumerWorkerReply =
  | { readonly summary: ConsumerSummary }
  | { readonly error: { readonly name: string; readonly message: string } };

const input = workerData as ConsumerWorkerInput;
// Powertools metrics print EMF to stdout for CloudWatch; locally the CLI reports the figures itself.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
const handler = createConsumerHandler({
  s3: new S3Client(localS3ClientConfig(input.s3Endpoint)),
  config: () => input.config,
  logger: new Logger({ serviceName: 'consumer', logLevel: 'ERROR' }),
  metrics: new Metrics({ namespace: 'SpotifyMds', serviceName: 'consumer' }),
});
const port = parentPort!;
port.on('message', (m: { event: MskEvent }) => {
  handler(m.event).then(
    (summary) => port.postMessage({ summary } satisfies ConsumerWorkerReply),
    (err: unknown) =>
      port.postMessage({
        error: { name: err instanceof Error ? err.name : 'Error', message: errorMessage(err) },
      } satisfies ConsumerWorkerReply),
  );
});
port.postMessage({ ready: true });
