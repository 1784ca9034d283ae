/**
 * The whole CDK app for one environment: six stacks wired together, cdk-nag on everything.
 * bin/app.ts calls this with the configuration it read from context; tests and the local workflow
 * call it with their own App.
 */
import { type App, Validations, type Environment } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { EnvironmentConfig, EnvironmentName } from './config/environments.ts';
import { reviewWildcards } from './constructs/wildcard-review.ts';
import { IngestStack } from './stacks/ingest-stack.ts';
import { NetworkStack } from './stacks/network-stack.ts';
import { ObservabilityStack } from './stacks/observability-stack.ts';
import { PipelineStack } from './stacks/pipeline-stack.ts';
import { StorageStack } from './stacks/storage-stack.ts';
import { StreamingStack } from './stacks/streaming-stack.ts';

export interface MdsStacks {
  readonly network: NetworkStack;
  readonly streaming: StreamingStack;
  readonly storage: StorageStack;
  readonly ingest: IngestStack;
  readonly pipeline: PipelineStack;
  readonly observability: ObservabilityStack;
}

export interface BuildAppOptions {
  readonly envName: EnvironmentName;
  readonly config: EnvironmentConfig;
  /** Run the cdk-nag AwsSolutions pack at synth. @default true */
  readonly nag?: boolean;
  /** The dbt project folder, relative to the project root. @default 'dbt' */
  readonly dbtDirectory?: string;
}

/** `Mds-<env>-<Unit>`, e.g. Mds-prod-Pipeline. */
export function stackName(envName: EnvironmentName, unit: string): string {
  return `Mds-${envName}-${unit}`;
}

export function buildApp(app: App, options: BuildAppOptions): MdsStacks {
  const { config, envName } = options;
  // Environment-agnostic unless the configuration pins both account and region.
  const env: Environment | undefined =
    config.account && config.region ? { account: config.account, region: config.region } : undefined;
  const logRetention = config.retention.logRetentionDays as logs.RetentionDays;
  const common = { env, tags: { project: 'spotify-mds', environment: envName } };
  const name = (unit: string) => stackName(envName, unit);
  // Where the Streaming stack publishes the cluster and the Ingest stack reads it (SSM parameters).
  const kafkaParameterPrefix = `/mds/${envName}/kafka`;

  const network = new NetworkStack(app, name('Network'), {
    ...common,
    natGateways: config.network.natGateways,
    interfaceEndpoints: config.network.interfaceEndpoints,
    logRetention,
  });
  const streaming = new StreamingStack(app, name('Streaming'), {
    ...common,
    vpc: network.vpc,
    mode: config.msk.mode,
    kafkaVersion: config.msk.kafkaVersion,
    brokerInstanceType: config.msk.brokerInstanceType,
    brokerCount: config.msk.brokerCount,
    volumeSizeGiB: config.msk.volumeSizeGiB,
    topic: config.topic,
    partitions: config.partitions,
    logRetention,
    parameterPrefix: kafkaParameterPrefix,
  });
  const storage = new StorageStack(app, name('Storage'), {
    ...common,
    infrequentAccessDays: config.retention.bronzeInfrequentAccessDays,
    glacierDays: config.retention.bronzeGlacierDays,
    expireDays: config.retention.bronzeExpireDays,
    quarantineExpireDays: config.retention.quarantineExpireDays,
  });
  const ingest = new IngestStack(app, name('Ingest'), {
    ...common,
    vpc: network.vpc,
    kafkaParameterPrefix,
    bucket: storage.bronze.bucket,
    topic: config.topic,
    consumer: config.consumer,
    producer: config.producer,
    spotifyPoller: config.spotify.poller,
    historyImport: config.spotify.import,
    logRetention,
  });
  // No token reference orders the two stacks any more: the parameters must exist before Ingest deploys.
  ingest.addStackDependency(streaming, 'reads the Kafka cluster from its SSM parameters');
  const pipeline = new PipelineStack(app, name('Pipeline'), {
    ...common,
    vpc: network.vpc,
    bucket: storage.bronze.bucket,
    snowflake: config.warehouse,
    schedule: config.schedule,
    workflow: config.workflow,
    alarmEmail: config.alarmEmail,
    logRetention,
    dbtDirectory: options.dbtDirectory,
  });
  const observability = new ObservabilityStack(app, name('Observability'), {
    ...common,
    consumer: ingest.consumer,
    functions: {
      Producer: ingest.producer,
      SpotifyPoller: ingest.spotifyPoller.function,
      Consumer: ingest.consumer,
      Planner: pipeline.planner,
      Loader: pipeline.loader,
      Reconcile: pipeline.reconcile,
      Publisher: pipeline.publisher,
    },
    stateMachine: pipeline.stateMachine,
    failedBatches: ingest.failedBatches,
    alarmTopic: pipeline.notifications,
    scheduleEnabled: config.schedule.enabled,
  });

  if (options.nag ?? true) {
    reviewWildcards(app);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  }
  return { network, streaming, storage, ingest, pipeline, observability };
}
