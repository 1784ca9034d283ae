/**
 * The local stand-ins for AWS, started together: the Kafka-protocol broker, the S3-API server, an SNS stand-in,
 * the DuckDB warehouse, the local Lambda runtime with the functions of the synthesized cloud assembly (each
 * from its asset, its init checked before anything is produced), and the event source mapping that invokes
 * the Consumer function. Everything lives under one data directory; ports are checked before anything starts,
 * so a clash is one clear message. Any of the broker, the S3 server and the warehouse may be external instead
 * (endpoints.ts): an external one is checked before anything starts, and is not stopped on close.
 */
import { S3Client } from '@aws-sdk/client-s3';
import path from 'node:path';
import type { ConsumerSummary } from '../../lambdas/consumer/land.ts';
import { createKafka } from '../../lambdas/core/kafka.ts';
import type { RunningBroker } from '../broker/index.ts';
import { startBrokerThread } from '../broker/thread.ts';
import { startEventSourceMapping, type RunningMapping } from '../esm/index.ts';
import { s3OnFailure } from '../esm/on-failure.ts';
import { LOCAL_DEFAULTS, localPaths, type LocalPaths } from '../paths.ts';
import { assertPortFree, startLocalS3, type LocalS3 } from '../s3-server.ts';
import {
  eventSourceMappingOf,
  functionById,
  synthesizeAssembly,
  type CloudAssembly,
  type EventSourceMappingSpec,
} from '../lambda/assembly.ts';
import { startLocalFunctions } from '../lambda/local-functions.ts';
import type { LocalLambdaRuntime } from '../lambda/runtime.ts';
import { startLocalSns, type LocalSns } from '../sns-server.ts';
import { reserveEndpoint, type ReservedEndpoint } from '../workflow/sfn-endpoint.ts';
import type { Endpoints } from './endpoint-settings.ts';
import { checkEndpoints, externalS3ClientConfig } from './endpoints.ts';
import { WarehouseLease } from './warehouse-lease.ts';

/** The functions the local pipeline runs: the consumer under the mapping, and the workflow's tasks. */
export const PIPELINE_FUNCTIONS = ['Consumer', 'Planner', 'Loader', 'Reconcile', 'Publisher'] as const;

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
  /** Execution environments of the Consumer function (concurrent invocations). @default 2 */
  readonly consumerThreads?: number;
  /** The cloud assembly to run; @default the one of `cdk synth -c env=dev` for the sources as they are */
  readonly assembly?: CloudAssembly;
  readonly log?: (line: string) => void;
  /** Where the local Step Functions endpoint will answer; @default one reserved on a free port */
  readonly sfnEndpoint?: ReservedEndpoint;
  /** External Kafka, S3 and warehouse in place of the embedded ones (endpoints.ts); @default all embedded */
  readonly endpoints?: Endpoints;
}

export interface LocalServices {
  readonly paths: LocalPaths;
  /** The local broker, or the external cluster (its bootstrap: the brokers joined by commas). */
  readonly broker: RunningBroker;
  /** The bootstrap brokers, one per entry, for Kafka clients. */
  readonly brokers: readonly string[];
  /** Which of the broker, the S3 server and the warehouse are external (endpoints.ts). */
  readonly external: { readonly kafka: boolean; readonly s3: boolean; readonly warehouse: boolean };
  readonly s3Server: LocalS3;
  readonly s3: S3Client;
  readonly bucket: string;
  readonly topic: string;
  /** The warehouse (DuckDB or Postgres), taken in turn by this process and the functions (see WarehouseLease). */
  readonly warehouse: WarehouseLease;
  readonly assembly: CloudAssembly;
  readonly lambda: LocalLambdaRuntime;
  readonly sns: LocalSns;
  /** The local Step Functions endpoint's address, the functions' AWS_ENDPOINT_URL_SFN (local-workflow.ts). */
  readonly sfnEndpoint: ReservedEndpoint;
  readonly mapping: RunningMapping;
  /** The consumer mapping's settings: the template's, what runs locally, and which of them are local speed-ups. */
  readonly mappingSettings: {
    readonly template: EventSourceMappingSpec;
    readonly local: {
      readonly batchSize: number;
      readonly batchingWindowMs: number;
      readonly startingPosition: string;
      readonly maxAttempts: number;
    };
    readonly overrides: readonly string[];
  };
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
  const external = options.endpoints ?? {};
  const target = external.warehouse ?? {
    kind: 'duckdb' as const,
    path: localPaths(options.dataDir).warehouse,
  };
  const paths: LocalPaths = {
    ...localPaths(options.dataDir),
    ...(target.kind === 'duckdb' ? { warehouse: target.path } : { warehouse: target.display }),
  };
  const log = options.log ?? (() => undefined);
  const brokerPort = options.brokerPort ?? LOCAL_DEFAULTS.brokerPort;
  const s3Port = options.s3Port ?? LOCAL_DEFAULTS.s3Port;
  const topic = options.topic ?? LOCAL_DEFAULTS.topic;
  const bucket = external.bucket?.name ?? LOCAL_DEFAULTS.bucket;
  const partitions = options.partitions ?? LOCAL_DEFAULTS.partitions;
  const region = LOCAL_DEFAULTS.region;
  if (!external.brokers && brokerPort !== 0)
    await assertPortFree(brokerPort, 'the local Kafka broker (--broker-port)');
  if (!external.s3 && s3Port !== 0) await assertPortFree(s3Port, 'the local S3 server (--s3-port)');
  // Every external endpoint answers (and its bucket and topic exist) before anything starts or is produced.
  await checkEndpoints(external, { topic, partitions, bucket, region });
  // Powertools metrics print EMF to stdout for CloudWatch; locally the CLI reports the figures itself.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

  const opened: { close(): Promise<void> }[] = [];
  const closeAll = async () => {
    for (const s of opened.reverse()) await s.close().catch(() => undefined);
  };
  try {
    const s3Server = external.s3
      ? externalS3(external.s3.endpoint, region)
      : await startLocalS3({ directory: paths.s3, port: s3Port, buckets: [bucket] });
    opened.push(s3Server);
    const s3 = s3Server.client();
    // The functions get the credentials this process resolved (environment or profile), as Lambda gets its
    // role's; the embedded server accepts only its own.
    const credentials = external.s3 ? await s3.config.credentials() : undefined;
    const broker: RunningBroker = external.brokers
      ? {
          port: Number(external.brokers.list[0]?.split(':').pop()),
          bootstrap: external.brokers.list.join(','),
          close: async () => undefined,
        }
      : await startBrokerThread({ dataDir: paths.broker, port: brokerPort, log });
    opened.push(broker);
    const brokers = broker.bootstrap.split(',');
    const warehouse = new WarehouseLease(target);
    await warehouse.use((wh) => wh.ensureBronze());
    const sns = await startLocalSns({ file: path.join(paths.root, 'notifications.ndjson') });
    opened.push(sns);
    const sfnEndpoint = options.sfnEndpoint ?? (await reserveEndpoint());
    if (!options.sfnEndpoint) opened.push(sfnEndpoint);
    const assembly = options.assembly ?? (await synthesizeAssembly({ envName: 'dev', log }));

    if (!external.brokers) {
      const admin = createKafka({ brokers, clientId: 'mds-local' }).admin();
      await admin.connect();
      try {
        const existing = await admin.listTopics();
        if (!existing.includes(topic)) {
          await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
        }
      } finally {
        await admin.disconnect();
      }
    }

    const lambda = await startLocalFunctions(
      assembly,
      {
        region,
        bucket,
        s3Endpoint: s3Server.endpoint,
        snsEndpoint: sns.endpoint,
        sfnEndpoint: sfnEndpoint.url,
        kafkaBootstrap: broker.bootstrap,
        warehouse: target,
        credentials,
        warehouseLock: (fn) => warehouse.exclusive(fn),
      },
      {
        logDir: path.join(paths.root, 'logs'),
        only: PIPELINE_FUNCTIONS,
        concurrency: { Consumer: options.consumerThreads ?? LOCAL_DEFAULTS.consumerThreads },
      },
    );
    opened.push(lambda);
    const totals = { recordsIn: 0, landed: 0, quarantined: 0, objects: 0 };
    const fromTemplate = eventSourceMappingOf(assembly, functionById(assembly, 'Consumer'));
    const effective = {
      batchSize: options.batchSize ?? LOCAL_DEFAULTS.mappingOverrides.batchSize,
      batchingWindowMs: options.batchingWindowMs ?? LOCAL_DEFAULTS.mappingOverrides.batchingWindowMs,
      startingPosition: fromTemplate.startingPosition,
      // -1 (retry until the records expire) is bounded locally as Lambda bounds it with a destination: 10.
      maxAttempts: (fromTemplate.maximumRetryAttempts < 0 ? 10 : fromTemplate.maximumRetryAttempts) + 1,
    };
    const mapping = await startEventSourceMapping({
      brokers,
      topic,
      groupId: LOCAL_DEFAULTS.consumerGroup,
      batchSize: effective.batchSize,
      batchingWindowMs: effective.batchingWindowMs,
      startingPosition: effective.startingPosition,
      maxAttempts: effective.maxAttempts,
      handler: async (event) => {
        const s = (await lambda.invoke('Consumer', event)) as ConsumerSummary;
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
      brokers,
      external: { kafka: !!external.brokers, s3: !!external.s3, warehouse: !!external.warehouse },
      s3Server,
      s3,
      bucket,
      topic,
      warehouse,
      assembly,
      lambda,
      sns,
      sfnEndpoint,
      mapping,
      mappingSettings: {
        template: fromTemplate,
        local: effective,
        overrides: ['batchSize', 'batchingWindowMs'],
      },
      landing: () => ({ ...totals }),
      close: async () => {
        await mapping.stop();
        await lambda.close();
        await sns.close();
        if (!options.sfnEndpoint) await sfnEndpoint.close();
        await broker.close();
        await s3Server.close();
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** An S3 server this process did not start: its client, with the SDK's default credentials; nothing to stop. */
function externalS3(endpoint: string, region: string): LocalS3 {
  const url = new URL(endpoint);
  return {
    endpoint,
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    client: () => new S3Client(externalS3ClientConfig(endpoint, region)),
    close: async () => undefined,
  };
}
