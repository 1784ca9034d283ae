/**
 * The local stand-ins for AWS, started together: the Kafka-protocol broker, the S3-API server, the DuckDB
 * warehouse, and the event source mapping that feeds the consumer Lambda's handler (on worker threads, see
 * consumer-threads.ts). Everything lives under one data directory; ports are checked before anything
 * starts, so a clash is one clear message.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { BRONZE_PREFIX, QUARANTINE_PREFIX } from '../../lambdas/shared/bronze.ts';
import { createKafka } from '../../lambdas/shared/kafka.ts';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lambdas/shared/warehouse/duckdb.ts';
import type { RunningBroker } from '../broker/index.ts';
import { startBrokerThread } from '../broker/thread.ts';
import { startEventSourceMapping, type RunningMapping } from '../esm/index.ts';
import { s3OnFailure } from '../esm/on-failure.ts';
import { LOCAL_DEFAULTS, localPaths, type LocalPaths } from '../paths.ts';
import { assertPortFree, startLocalS3, type LocalS3 } from '../s3-server.ts';
import { startConsumerThreads } from './consumer-threads.ts';

export interface LocalServicesOptions {
  readonly dataDir: string;
  /** @default 9092 (0 = a free port) */
  readonly brokerPort?: number;
  /** @default 4569 (0 = a free port) */
  readonly s3Port?: number;
  readonly topic?: string;
  readonly partitions?: number;
  /** Event source mapping batch size and window, as on the AWS mapping. */
  readonly batchSize?: number;
  readonly batchingWindowMs?: number;
  /** Threads running the consumer handler (its local execution environments). @default 2 */
  readonly consumerThreads?: number;
  readonly log?: (line: string) => void;
}

export interface LocalServices {
  readonly paths: LocalPaths;
  readonly broker: RunningBroker;
  readonly s3Server: LocalS3;
  readonly s3: S3Client;
  readonly bucket: string;
  readonly topic: string;
  readonly warehouse: DuckDbWarehouse;
  readonly mapping: RunningMapping;
  /** What the consumer handler has landed since start. */
  readonly landing: () => {
    readonly recordsIn: number;
    readonly landed: number;
    readonly quarantined: number;
    readonly objects: number;
  };
  close(): Promise<void>;
}

export async function startLocalServices(options: LocalServicesOptions): Promise<LocalServices> {
  const paths = localPaths(options.dataDir);
  const log = options.log ?? (() => undefined);
  const brokerPort = options.brokerPort ?? LOCAL_DEFAULTS.brokerPort;
  const s3Port = options.s3Port ?? LOCAL_DEFAULTS.s3Port;
  const topic = options.topic ?? LOCAL_DEFAULTS.topic;
  const bucket = LOCAL_DEFAULTS.bucket;
  if (brokerPort !== 0) await assertPortFree(brokerPort, 'the local Kafka broker (--broker-port)');
  if (s3Port !== 0) await assertPortFree(s3Port, 'the local S3 server (--s3-port)');
  // Powertools metrics print EMF to stdout for CloudWatch; locally the CLI reports the figures itself.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

  const opened: { close(): Promise<void> }[] = [];
  const closeAll = async () => {
    for (const s of opened.reverse()) await s.close().catch(() => undefined);
  };
  try {
    const s3Server = await startLocalS3({ directory: paths.s3, port: s3Port, buckets: [bucket] });
    opened.push(s3Server);
    const s3 = s3Server.client();
    const broker = await startBrokerThread({ dataDir: paths.broker, port: brokerPort, log });
    opened.push(broker);
    const warehouse = await openDuckDbWarehouse({ path: paths.warehouse });
    opened.push(warehouse);
    await warehouse.ensureBronze();

    const kafka = createKafka({ brokers: [broker.bootstrap], clientId: 'mds-local' });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const existing = await admin.listTopics();
      if (!existing.includes(topic)) {
        await admin.createTopics({
          topics: [{ topic, numPartitions: options.partitions ?? LOCAL_DEFAULTS.partitions }],
          waitForLeaders: true,
        });
      }
    } finally {
      await admin.disconnect();
    }

    const totals = { recordsIn: 0, landed: 0, quarantined: 0, objects: 0 };
    const consumer = await startConsumerThreads({
      s3Endpoint: s3Server.endpoint,
      config: { bucket, bronzePrefix: BRONZE_PREFIX, quarantinePrefix: QUARANTINE_PREFIX, gzipLevel: 1 },
      count: options.consumerThreads ?? LOCAL_DEFAULTS.consumerThreads,
    });
    opened.push(consumer);
    const mapping = await startEventSourceMapping({
      brokers: [broker.bootstrap],
      topic,
      groupId: LOCAL_DEFAULTS.consumerGroup,
      batchSize: options.batchSize,
      batchingWindowMs: options.batchingWindowMs,
      handler: async (event) => {
        const s = await consumer.invoke(event);
        totals.recordsIn += s.recordsIn;
        totals.landed += s.landed;
        totals.quarantined += s.quarantined;
        totals.objects += s.objectsWritten;
        return s;
      },
      onFailure: s3OnFailure(s3, bucket),
      log,
    });
    opened.push({ close: () => mapping.stop() });
    return {
      paths,
      broker,
      s3Server,
      s3,
      bucket,
      topic,
      warehouse,
      mapping,
      landing: () => ({ ...totals }),
      close: async () => {
        await mapping.stop();
        await consumer.close();
        await warehouse.close();
        await broker.close();
        await s3Server.close();
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
