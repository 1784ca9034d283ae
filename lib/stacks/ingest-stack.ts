import { Duration, Stack, TimeZone, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ManagedKafkaEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ARRIVALS_PREFIX, BRONZE_PREFIX, QUARANTINE_PREFIX } from '../../lambdas/core/bronze.ts';
import { consumerEnv } from '../../lambdas/consumer/env.ts';
import { producerEnv } from '../../lambdas/producer/env.ts';
import { acknowledge } from '../constructs/acknowledge.ts';
import { KafkaCluster } from '../constructs/kafka-cluster.ts';
import { MdsFunction } from '../constructs/mds-function.ts';
import { SpotifyPoller } from '../constructs/spotify-poller.ts';
import { HistoryImport } from '../constructs/history-import.ts';

export interface IngestStackProps extends StackProps {
  readonly vpc: ec2.IVpc;
  /**
   * SSM prefix under which the Streaming stack publishes the cluster (KafkaCluster.fromParameters).
   * The cluster is read by name at deploy, not imported: see lib/constructs/kafka-cluster.ts.
   */
  readonly kafkaParameterPrefix: string;
  readonly bucket: s3.IBucket;
  readonly topic: string;
  readonly consumer: {
    readonly batchSize: number;
    readonly batchingWindowSeconds: number;
    readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
    readonly groupId: string;
    readonly retryAttempts: number;
    readonly maximumPollers: number;
    readonly earliestEventTime: string;
    readonly maxEventAheadMinutes: number;
  };
  readonly producer: {
    readonly enabled: boolean;
    readonly schedule: string;
    readonly eventsPerInvocation: number;
  };
  /** The Spotify recently-played poller (lib/constructs/spotify-poller.ts). */
  readonly spotifyPoller: {
    readonly enabled: boolean;
    readonly schedule: string;
    readonly apiBaseUrl: string;
    readonly accountsBaseUrl: string;
  };
  /** The streaming-history import (lib/constructs/history-import.ts). */
  readonly historyImport: {
    readonly enabled: boolean;
    readonly memoryMiB: number;
    readonly timeoutMinutes: number;
  };
  readonly logRetention: logs.RetentionDays;
}

/**
 * Kafka in, Bronze out: the simulated producer on its own schedule, and the consumer that the MSK
 * event source mapping feeds; batches that keep failing go to an SQS on-failure destination.
 */
export class IngestStack extends Stack {
  readonly producer: MdsFunction;
  readonly consumer: MdsFunction;
  readonly failedBatches: sqs.Queue;
  readonly producerSchedule: scheduler.Schedule;
  readonly spotifyPoller: SpotifyPoller;
  readonly historyImport?: HistoryImport;

  constructor(scope: Construct, id: string, props: IngestStackProps) {
    super(scope, id, props);
    const cluster = KafkaCluster.fromParameters(this, 'Kafka', props.kafkaParameterPrefix);

    this.producer = new MdsFunction(this, 'Producer', {
      entryPath: 'lambdas/producer/handler.ts',
      description: 'Simulated listening events to Kafka',
      timeout: Duration.minutes(1),
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [cluster.clientSecurityGroup],
      logRetentionDays: props.logRetention,
      environment: producerEnv.write({
        KAFKA_BROKERS: cluster.bootstrapBrokers,
        KAFKA_TOPIC: props.topic,
        EVENTS_PER_INVOCATION: props.producer.eventsPerInvocation,
      }),
    });
    cluster.grantProduce(this.producer, props.topic);
    this.producerSchedule = new scheduler.Schedule(this, 'ProducerSchedule', {
      description: 'Runs the simulated producer',
      schedule: scheduler.ScheduleExpression.expression(props.producer.schedule, TimeZone.ETC_UTC),
      target: new targets.LambdaInvoke(this.producer, { retryAttempts: 0 }),
      enabled: props.producer.enabled,
    });
    this.spotifyPoller = new SpotifyPoller(this, 'SpotifyPoller', {
      vpc: props.vpc,
      cluster,
      topic: props.topic,
      ...props.spotifyPoller,
      logRetention: props.logRetention,
    });
    if (props.historyImport.enabled) {
      this.historyImport = new HistoryImport(this, 'HistoryImport', {
        bucketName: props.bucket.bucketName,
        cluster,
        vpc: props.vpc,
        topic: props.topic,
        memoryMiB: props.historyImport.memoryMiB,
        timeoutMinutes: props.historyImport.timeoutMinutes,
        logRetention: props.logRetention,
      });
    }

    this.failedBatches = new sqs.Queue(this, 'FailedBatches', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.failedBatches,
      'AwsSolutions-SQS3',
      'This queue is itself the on-failure destination of the event source mapping; it holds batch metadata to replay.',
    );

    this.consumer = new MdsFunction(this, 'Consumer', {
      entryPath: 'lambdas/consumer/handler.ts',
      description: 'Kafka batches to Bronze (event-time partitions) and quarantine',
      timeout: Duration.minutes(5),
      memorySize: 1024,
      logRetentionDays: props.logRetention,
      environment: consumerEnv.write({
        BUCKET_NAME: props.bucket.bucketName,
        EVENT_TIME_EARLIEST: props.consumer.earliestEventTime,
        EVENT_TIME_MAX_AHEAD_MINUTES: props.consumer.maxEventAheadMinutes,
      }),
    });
    props.bucket.grantPut(this.consumer, `${BRONZE_PREFIX}*`);
    props.bucket.grantPut(this.consumer, `${QUARANTINE_PREFIX}*`);
    props.bucket.grantPut(this.consumer, `${ARRIVALS_PREFIX}*`);
    cluster.grantConsume(this.consumer, props.topic, props.consumer.groupId);
    this.consumer.addEventSource(
      new ManagedKafkaEventSource({
        clusterArn: cluster.clusterArn,
        topic: props.topic,
        consumerGroupId: props.consumer.groupId,
        batchSize: props.consumer.batchSize,
        maxBatchingWindow: Duration.seconds(props.consumer.batchingWindowSeconds),
        startingPosition: lambda.StartingPosition[props.consumer.startingPosition],
        onFailure: new SqsDlq(this.failedBatches),
        // Provisioned poller mode, because only in it does a Kafka mapping take error handling
        // controls (Lambda guide, "Configuring error handling controls for Kafka event sources": select
        // provisioned mode to configure them). In the default on-demand mode a failing batch is retried
        // until its records expire from the topic, holding up its partition for up to the retention
        // period. Here a batch is retried `retryAttempts` times, split in two on each error so that a
        // bad record ends up alone, and then its offsets go to the on-failure queue. The age limit stays
        // unset (-1): after an outage the backlog is processed, not discarded. One poller (5 MB/s) is far
        // above 1,000 events/s of ~272 bytes; it is billed per event poller unit hour even when idle.
        provisionedPollerConfig: { minimumPollers: 1, maximumPollers: props.consumer.maximumPollers },
        retryAttempts: props.consumer.retryAttempts,
        bisectBatchOnError: true,
      }),
    );
    acknowledge(
      this.consumer.role!,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaMSKExecutionRole]',
      'CDK attaches this policy for the MSK event source mapping (describe the cluster, manage its network interfaces).',
    );
  }
}
