import { CustomResource, Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledge } from './acknowledge.ts';
import type { KafkaCluster } from './kafka-cluster.ts';
import { MdsFunction } from './mds-function.ts';

export interface KafkaTopicProps {
  readonly cluster: KafkaCluster;
  readonly vpc: ec2.IVpc;
  readonly topic: string;
  readonly partitions: number;
  readonly logRetention: logs.RetentionDays;
}

/**
 * The Kafka topic, created at deploy by a custom resource whose Lambda talks to the cluster with
 * IAM auth over TLS. Growing `partitions` adds partitions; the topic outlives the stack.
 */
export class KafkaTopic extends Construct {
  readonly topicName: string;
  readonly handler: MdsFunction;

  constructor(scope: Construct, id: string, props: KafkaTopicProps) {
    super(scope, id);
    this.handler = new MdsFunction(this, 'AdminFunction', {
      entryPath: 'lambdas/topic-admin/handler.ts',
      description: 'Creates the Kafka topic at deploy time',
      timeout: Duration.minutes(5),
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [props.cluster.clientSecurityGroup],
      logRetentionDays: props.logRetention,
    });
    props.cluster.grantAdminTopic(this.handler, props.topic);

    const provider = new cr.Provider(this, 'Provider', { onEventHandler: this.handler });
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::KafkaTopic',
      properties: {
        BootstrapBrokers: props.cluster.bootstrapBrokers,
        Topic: props.topic,
        Partitions: String(props.partitions),
      },
    });
    this.topicName = resource.getAttString('Topic');

    const framework = provider.node.findChild('framework-onEvent');
    acknowledge(
      framework.node.findChild('ServiceRole'),
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      "CDK's Provider framework function only writes its logs; the managed policy grants exactly that.",
    );
    acknowledge(
      framework,
      'AwsSolutions-L1',
      "CDK's Provider framework pins its own runtime; it runs only during deployments.",
    );
  }
}
