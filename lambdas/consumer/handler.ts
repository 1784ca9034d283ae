/**
 * The consumer Lambda: triggered by the Kafka event source mapping (MSK or self-managed Kafka), it lands
 * the batch in Bronze through `landBatch`. Thin wiring only: configuration, logging, metrics.
 *
 * MSK mappings have no partial batch response, so any failed S3 write throws and the whole batch is
 * retried; the object keys and bytes are deterministic, so the retry is safe.
 *
 * Environment (env.ts): BUCKET_NAME (required), BRONZE_PREFIX (default "bronze/"), QUARANTINE_PREFIX
 * (default "quarantine/"), GZIP_LEVEL (default 1), EVENT_TIME_EARLIEST and EVENT_TIME_MAX_AHEAD_MINUTES (the
 * plausible event times; outside them an event is quarantined), and the Powertools variables (POWERTOOLS_SERVICE_NAME,
 * POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL, ...).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import { errorMessage } from '../core/errors.ts';
import { consumerEnv } from './env.ts';
import { landBatch, type ConsumerSummary, type LandOptions } from './land.ts';
import type { MskEvent } from './msk-event.ts';

export type { MskEvent, MskRecord, MskRecordHeader } from './msk-event.ts';
export type { ConsumerSummary } from './land.ts';

export type ConsumerConfig = LandOptions &
  Required<Pick<LandOptions, 'bronzePrefix' | 'quarantinePrefix' | 'gzipLevel'>> & {
    readonly bucket: string;
  };

export function consumerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ConsumerConfig {
  const c = consumerEnv.read(env);
  return {
    bucket: c.BUCKET_NAME,
    bronzePrefix: c.BRONZE_PREFIX,
    quarantinePrefix: c.QUARANTINE_PREFIX,
    gzipLevel: c.GZIP_LEVEL,
    eventTimeEarliest: c.EVENT_TIME_EARLIEST,
    maxEventAheadMinutes: c.EVENT_TIME_MAX_AHEAD_MINUTES,
  };
}

export interface ConsumerDeps {
  readonly s3: S3Client;
  /** Read on the first invocation, so that importing the module never fails. */
  readonly config: () => ConsumerConfig;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

export function createConsumerHandler(deps: ConsumerDeps): (event: MskEvent) => Promise<ConsumerSummary> {
  // Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE.
  const logger = deps.logger ?? new Logger();
  const metrics = deps.metrics ?? new Metrics();
  let config: ConsumerConfig | undefined;
  return async (event) => {
    config ??= deps.config();
    const { bucket, ...options } = config;
    try {
      const result = await landBatch(deps.s3, bucket, event, options);
      const summary: ConsumerSummary = {
        recordsIn: result.recordsIn,
        landed: result.landed,
        quarantined: result.quarantined,
        objectsWritten: result.objectsWritten,
        markersWritten: result.markersWritten,
        bytesWritten: result.bytesWritten,
      };
      // One set of metrics per invocation, never per record.
      metrics.addMetric('RecordsIn', MetricUnit.Count, summary.recordsIn);
      metrics.addMetric('RecordsLanded', MetricUnit.Count, summary.landed);
      metrics.addMetric('RecordsQuarantined', MetricUnit.Count, summary.quarantined);
      metrics.addMetric('ObjectsWritten', MetricUnit.Count, summary.objectsWritten);
      metrics.addMetric('LateObjects', MetricUnit.Count, summary.markersWritten);
      metrics.addMetric('BytesWritten', MetricUnit.Bytes, summary.bytesWritten);
      // Quarantined records are an expected outcome with their own metric, not a warning per batch.
      logger.info('batch landed', { ...summary });
      return summary;
    } catch (err) {
      logger.error('batch not landed; the event source mapping will retry it', { error: errorMessage(err) });
      metrics.addMetric('BatchesFailed', MetricUnit.Count, 1);
      throw err;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

export const handler = createConsumerHandler({ s3: new S3Client({}), config: () => consumerConfigFromEnv() });
