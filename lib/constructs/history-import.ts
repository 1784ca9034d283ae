import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { IMPORTS_PREFIX, IMPORT_SUMMARIES_PREFIX, importerEnv } from '../../lambdas/importer/env.ts';
import { acknowledge } from './acknowledge.ts';
import type { IKafkaCluster } from './kafka-cluster.ts';
import { MdsFunction } from './mds-function.ts';

export interface HistoryImportProps {
  /** The Bronze bucket's name: exports are uploaded under its `imports/` prefix. */
  readonly bucketName: string;
  readonly cluster: IKafkaCluster;
  readonly vpc: ec2.IVpc;
  readonly topic: string;
  /** Megabytes of the function (spotify.import.memoryMiB). */
  readonly memoryMiB: number;
  /** Minutes one object may take (spotify.import.timeoutMinutes). */
  readonly timeoutMinutes: number;
  readonly logRetention: logs.RetentionDays;
}

/**
 * The streaming-history import in AWS: a new object under `imports/` of the Bronze bucket (the export's zip or
 * its Streaming_History_Audio_*.json files) notifies the import function, which streams its entries into
 * Kafka as version-2 events and writes the counts under `import-summaries/`.
 *
 * - The bucket is the Bronze bucket, referenced by name: its other prefixes stay out of reach (the function may
 *   read `imports/*` and write `import-summaries/*` only), and no second bucket needs its own access logs,
 *   encryption and TLS policy. A reference by name keeps the notification in this stack: the bucket's own
 *   stack would have to refer back to the function, a cycle. CDK configures the notification of a referenced
 *   bucket with its BucketNotificationsHandler, which keeps notifications it did not create.
 * - The notification filters on the prefix and on the suffixes `.zip` and `.json` (S3 filters take one prefix
 *   and one suffix each, and two rules of one event type may not overlap).
 * - S3 invokes the function asynchronously: Lambda retries a failed invocation twice, then sends the event to
 *   the dead-letter queue (Lambda developer guide, "asynchronous invocation"). Notifications are delivered at
 *   least once; a repeated import sends the same event ids, which Silver keeps once.
 * - Sizing: an export file is about 12 MB, some 25,000 entries; the function holds one file's events (about
 *   three times the file in memory), so 1,024 MB leaves room, and Lambda gives CPU in proportion to memory:
 *   parsing and gzip are CPU-bound. A whole zip of years is read in one invocation at tens of thousands of
 *   entries a second (`npm run bench -- import`), so the timeout is the maximum, 15 minutes; an export larger
 *   than that is uploaded as its JSON files, one invocation each.
 */
export class HistoryImport extends Construct {
  readonly function: MdsFunction;
  readonly deadLetters: sqs.Queue;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: HistoryImportProps) {
    super(scope, id);
    const bucket = s3.Bucket.fromBucketName(this, 'Bucket', props.bucketName);
    this.deadLetters = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetters,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the import function; it holds the S3 notifications to replay.',
    );
    this.function = new MdsFunction(this, 'Importer', {
      entryPath: 'lambdas/importer/handler.ts',
      description: 'Spotify streaming-history exports under imports/ to Kafka',
      timeout: Duration.minutes(props.timeoutMinutes),
      memorySize: props.memoryMiB,
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [props.cluster.clientSecurityGroup],
      logRetentionDays: props.logRetention,
      deadLetterQueue: this.deadLetters,
      retryAttempts: 2,
      environment: importerEnv.write({
        BUCKET_NAME: props.bucketName,
        IMPORTS_PREFIX,
        SUMMARIES_PREFIX: IMPORT_SUMMARIES_PREFIX,
        KAFKA_BROKERS: props.cluster.bootstrapBrokers,
        KAFKA_TOPIC: props.topic,
      }),
    });
    props.cluster.grantProduce(this.function, props.topic);
    bucket.grantRead(this.function, `${IMPORTS_PREFIX}*`);
    bucket.grantPut(this.function, `${IMPORT_SUMMARIES_PREFIX}*`);
    for (const suffix of ['.zip', '.json']) {
      bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(this.function), {
        prefix: IMPORTS_PREFIX,
        suffix,
      });
    }

    // The notification's custom resource (one per stack, CDK's BucketNotificationsHandler) writes its logs
    // with the managed basic-execution policy.
    const handler = Stack.of(this)
      .node.children.find((c) => c.node.id.startsWith('BucketNotificationsHandler'))
      ?.node.tryFindChild('Role');
    if (handler) {
      acknowledge(
        handler,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        "CDK's handler that sets the bucket's notification configuration (at deploy only) writes its logs with this policy.",
      );
    }

    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string): void => {
      this.alarms.push(
        new cloudwatch.Alarm(this, alarmId, {
          metric,
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          alarmDescription: description,
        }),
      );
    };
    alarm(
      'DeadLettersAlarm',
      this.deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      'An import failed after its retries; its S3 notification is in the dead-letter queue.',
    );
    alarm(
      'ErrorsAlarm',
      this.function.metricErrors({ period: Duration.minutes(5) }),
      'The import function failed (Kafka unreachable, or out of time or memory); Lambda retries it twice.',
    );
    alarm(
      'FilesRefusedAlarm',
      new cloudwatch.Metric({
        namespace: this.function.metricsNamespace,
        metricName: 'FilesRefused',
        dimensionsMap: { service: this.function.serviceName },
        statistic: cloudwatch.Stats.SUM,
        period: Duration.minutes(5),
      }),
      'An uploaded export file was refused (not an export, or a truncated zip); its summary under import-summaries/ says why.',
    );
  }
}
