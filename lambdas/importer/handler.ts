/**
 * The import function: S3 notifies it of each new object under `imports/` (the export's zip or its
 * Streaming_History_Audio_*.json files); it streams the object's entries into Kafka as version-2 events
 * (import.ts) and writes the counts to `import-summaries/<key>.summary.json`. A Kafka failure throws, so Lambda
 * retries the asynchronous invocation and then sends it to the dead-letter queue; a refused file is no
 * failure to retry: it is in the summary, the log and the FilesRefused metric.
 *
 * Environment (env.ts): BUCKET_NAME, IMPORTS_PREFIX (default imports/), SUMMARIES_PREFIX (default
 * import-summaries/), KAFKA_BROKERS, KAFKA_TOPIC, KAFKA_AUTH (iam or plaintext), AWS_REGION.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import type { Kafka, Producer } from 'kafkajs';
import { createKafka, createProducer, kafkaSettings } from '../core/kafka.ts';
import { kafkaFailure, produceRecords } from '../core/produce.ts';
import { importerEnv } from './env.ts';
import { importObject, isImportKey, notificationKey, type ObjectImport } from './import.ts';

/** The part of an S3 event notification the function reads. */
export interface S3NotificationEvent {
  readonly Records?: readonly {
    readonly s3: { readonly bucket: { readonly name: string }; readonly object: { readonly key: string } };
  }[];
}

export interface ImporterDeps {
  readonly s3?: S3Client;
  readonly env?: NodeJS.ProcessEnv;
  readonly kafka?: Kafka;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

export function createImporterHandler(
  deps: ImporterDeps = {},
): (event: S3NotificationEvent) => Promise<ObjectImport[]> {
  const logger = deps.logger ?? new Logger();
  const metrics = deps.metrics ?? new Metrics();
  const s3 = deps.s3 ?? new S3Client({});
  let connected: Promise<Producer> | undefined;
  return async (event) => {
    const c = importerEnv.read(deps.env ?? process.env);
    const { brokers, iamRegion } = kafkaSettings(c);
    connected ??= (async () => {
      const kafka =
        deps.kafka ??
        createKafka({
          brokers,
          clientId: 'mds-importer',
          iamAuth: iamRegion ? { region: iamRegion } : undefined,
          logger,
        });
      const p = createProducer(kafka);
      await p.connect();
      return p;
    })();
    const results: ObjectImport[] = [];
    try {
      for (const record of event.Records ?? []) {
        const bucket = record.s3.bucket.name;
        const key = notificationKey(record.s3.object.key);
        if (bucket !== c.BUCKET_NAME || !key.startsWith(c.IMPORTS_PREFIX) || !isImportKey(key)) {
          logger.warn('not an import object; ignored', { bucket, key });
          continue;
        }
        const producer = await connected.catch((err: unknown) => {
          // A failed connection is not kept: the retry of this invocation connects afresh.
          connected = undefined;
          throw kafkaFailure(err, brokers, c.KAFKA_TOPIC);
        });
        let kafkaError: unknown;
        const result = await importObject(s3, bucket, key, {
          importsPrefix: c.IMPORTS_PREFIX,
          summariesPrefix: c.SUMMARIES_PREFIX,
          send: async (records) => {
            try {
              await produceRecords(producer, c.KAFKA_TOPIC, records);
            } catch (err) {
              kafkaError = err;
              throw kafkaFailure(err, brokers, c.KAFKA_TOPIC);
            }
          },
        }).catch((err: unknown) => {
          if (kafkaError !== undefined) {
            const broken = connected;
            connected = undefined;
            void broken?.then((p) => p.disconnect()).catch(() => undefined);
          }
          throw err;
        });
        const t = result.summary.totals;
        metrics.addMetric('EntriesRead', MetricUnit.Count, t.entries);
        metrics.addMetric('EventsImported', MetricUnit.Count, t.imported);
        metrics.addMetric('EntriesLeftOut', MetricUnit.Count, t.leftOut);
        metrics.addMetric('EntriesRejected', MetricUnit.Count, t.rejected);
        metrics.addMetric('FilesRefused', MetricUnit.Count, result.summary.refused.length);
        const log = result.summary.refused.length > 0 ? logger.warn.bind(logger) : logger.info.bind(logger);
        log('object imported', {
          bucket,
          key,
          summary: result.summaryKey,
          ...t,
          refused: result.summary.refused,
        });
        results.push(result);
      }
      return results;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

export const handler = createImporterHandler();
