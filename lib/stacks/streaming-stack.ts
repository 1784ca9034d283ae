import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { KafkaCluster } from '../constructs/kafka-cluster.ts';
import { KafkaTopic } from '../constructs/kafka-topic.ts';

export interface StreamingStackProps extends StackProps {
  readonly vpc: ec2.IVpc;
  readonly mode: 'serverless' | 'provisioned';
  readonly kafkaVersion: string;
  readonly brokerInstanceType: string;
  readonly brokerCount: number;
  readonly volumeSizeGiB: number;
  readonly topic: string;
  readonly partitions: number;
  readonly logRetention: logs.RetentionDays;
  /** SSM prefix under which the cluster publishes itself for other stacks (KafkaCluster.fromParameters). */
  readonly parameterPrefix: string;
}

/**
 * Kafka: the MSK cluster (serverless or provisioned; IAM auth, TLS) and its topic, created at deploy.
 * Other stacks read the cluster from SSM parameters, so a change of mode, which replaces the cluster,
 * is not blocked by an export another stack imports.
 */
export class StreamingStack extends Stack {
  readonly cluster: KafkaCluster;
  readonly topic: KafkaTopic;

  constructor(scope: Construct, id: string, props: StreamingStackProps) {
    super(scope, id, props);
    this.cluster = new KafkaCluster(this, 'Kafka', {
      vpc: props.vpc,
      mode: props.mode,
      kafkaVersion: props.kafkaVersion,
      brokerInstanceType: props.brokerInstanceType,
      brokerCount: props.brokerCount,
      volumeSizeGiB: props.volumeSizeGiB,
      logRetention: props.logRetention,
      parameterPrefix: props.parameterPrefix,
    });
    this.topic = new KafkaTopic(this, 'Topic', {
      cluster: this.cluster,
      vpc: props.vpc,
      topic: props.topic,
      partitions: props.partitions,
      logRetention: props.logRetention,
    });

    // Transition, to be removed once every environment has deployed the SSM parameters: an Ingest stack
    // deployed before them imports these three values, and CloudFormation refuses to delete an export
    // that is still imported. Kept (under the names CDK gave them), they let one `deploy --all` move
    // Ingest to the parameters; imported by nobody afterwards, they may change or go at any time.
    this.exportValue(this.cluster.clusterArn);
    this.exportValue(this.cluster.bootstrapBrokers);
    this.exportValue(this.cluster.clientSecurityGroup.securityGroupId);
  }
}
