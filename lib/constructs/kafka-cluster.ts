import { Fn, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledge } from './acknowledge.ts';

/** Kafka over TLS with IAM (SASL/OAUTHBEARER with SigV4) listens on this port, in both MSK flavours. */
export const MSK_IAM_PORT = 9098;

/** What other stacks need of the cluster: where it is, who may connect, and the grants. */
export interface IKafkaCluster {
  readonly clusterArn: string;
  /** Comma-separated host:port list for IAM clients. */
  readonly bootstrapBrokers: string;
  /** Kafka clients join this group; the brokers admit it on the IAM port. */
  readonly clientSecurityGroup: ec2.ISecurityGroup;
  topicArn(topic: string): string;
  groupArn(group: string): string;
  grantConnect(grantee: iam.IGrantable): iam.Grant;
  grantProduce(grantee: iam.IGrantable, topic: string): iam.Grant;
  grantConsume(grantee: iam.IGrantable, topic: string, group: string): iam.Grant;
  grantAdminTopic(grantee: iam.IGrantable, topic: string): iam.Grant;
}

/** The SSM parameters a cluster publishes itself under: stable names, whatever the mode. */
export function kafkaParameterNames(prefix: string): {
  readonly clusterArn: string;
  readonly bootstrapBrokers: string;
  readonly clientSecurityGroupId: string;
} {
  return {
    clusterArn: `${prefix}/cluster-arn`,
    bootstrapBrokers: `${prefix}/bootstrap-brokers`,
    clientSecurityGroupId: `${prefix}/client-security-group-id`,
  };
}

/** The grants and child ARNs, the same for the cluster and for a reference to it. */
abstract class KafkaClusterBase extends Construct implements IKafkaCluster {
  abstract readonly clusterArn: string;
  abstract readonly bootstrapBrokers: string;
  abstract readonly clientSecurityGroup: ec2.ISecurityGroup;
  /** The cluster name as it appears in topic and group ARNs. */
  protected abstract readonly arnClusterName: string;

  /** `arn:...:<kind>/<cluster name>/<cluster uuid>/<name>`: topic and group ARNs for kafka-cluster actions. */
  private childArn(kind: 'topic' | 'group', name: string): string {
    const uuid = Fn.select(2, Fn.split('/', this.clusterArn));
    return Stack.of(this).formatArn({
      service: 'kafka',
      resource: kind,
      resourceName: `${this.arnClusterName}/${uuid}/${name}`,
    });
  }

  topicArn(topic: string): string {
    return this.childArn('topic', topic);
  }

  groupArn(group: string): string {
    return this.childArn('group', group);
  }

  grantConnect(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'],
      resourceArns: [this.clusterArn],
    });
  }

  grantProduce(grantee: iam.IGrantable, topic: string): iam.Grant {
    this.grantConnect(grantee);
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
      resourceArns: [this.topicArn(topic)],
    });
  }

  grantConsume(grantee: iam.IGrantable, topic: string, group: string): iam.Grant {
    this.grantConnect(grantee);
    // The Lambda event source mapping reads the cluster's dynamic configuration before it polls.
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:DescribeClusterDynamicConfiguration'],
      resourceArns: [this.clusterArn],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
      resourceArns: [this.groupArn(group)],
    });
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
      resourceArns: [this.topicArn(topic)],
    });
  }

  grantAdminTopic(grantee: iam.IGrantable, topic: string): iam.Grant {
    this.grantConnect(grantee);
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'kafka-cluster:CreateTopic',
        'kafka-cluster:DescribeTopic',
        'kafka-cluster:AlterTopic',
        'kafka-cluster:DescribeTopicDynamicConfiguration',
      ],
      resourceArns: [this.topicArn(topic)],
    });
  }
}

export interface KafkaClusterProps {
  readonly vpc: ec2.IVpc;
  /**
   * The cluster publishes its ARN, bootstrap brokers and client security group id as SSM parameters
   * under this prefix (see kafkaParameterNames), for other stacks to read by name.
   */
  readonly parameterPrefix: string;
  /** 'serverless' (pay per partition-hour and GB) or 'provisioned' (pay per broker-hour). */
  readonly mode: 'serverless' | 'provisioned';
  /** Provisioned only. @default '3.6.0' */
  readonly kafkaVersion?: string;
  /** Provisioned only. @default 'kafka.t3.small' */
  readonly brokerInstanceType?: string;
  /** Provisioned only; a multiple of the number of private subnets. @default 2 */
  readonly brokerCount?: number;
  /** Provisioned only. @default 100 */
  readonly volumeSizeGiB?: number;
  /** Provisioned only: broker log retention. */
  readonly logRetention: logs.RetentionDays;
}

/**
 * An MSK cluster that accepts only IAM-authenticated TLS clients, in the VPC's private subnets.
 * Clients join `clientSecurityGroup`; the cluster's own group also admits itself, because the
 * Lambda event source mapping polls from the cluster's subnets with the cluster's security group.
 *
 * Other stacks reach it through `KafkaCluster.fromParameters`, never through its attributes: a change
 * of mode replaces the cluster, and CloudFormation refuses to change or delete an output another stack
 * imports with Fn::ImportValue ("After another stack imports an output value, you can't delete the stack
 * that is exporting the output value or modify the exported output value", CloudFormation template
 * reference, Fn::ImportValue). SSM parameters with stable names keep no such lock: the consuming stack
 * reads them as AWS::SSM::Parameter::Value<String> parameters, which CloudFormation resolves to the
 * parameter's latest value on every create and update (CloudFormation user guide, "Specify existing
 * resources at runtime with CloudFormation-supplied parameter types"), and the CDK CLI never skips the
 * deployment of a stack with such parameters.
 */
export class KafkaCluster extends KafkaClusterBase {
  readonly clusterArn: string;
  readonly clusterName: string;
  protected readonly arnClusterName: string;
  readonly mode: 'serverless' | 'provisioned';
  readonly securityGroup: ec2.SecurityGroup;
  readonly clientSecurityGroup: ec2.SecurityGroup;
  /** Comma-separated host:port list for IAM clients, looked up at deploy. */
  readonly bootstrapBrokers: string;

  constructor(scope: Construct, id: string, props: KafkaClusterProps) {
    super(scope, id);
    this.mode = props.mode;
    const subnets = props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
    this.clientSecurityGroup = new ec2.SecurityGroup(this, 'ClientSecurityGroup', {
      vpc: props.vpc,
      description: 'Kafka clients (producer, topic admin)',
    });
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'MSK brokers: IAM/TLS from clients and from the event source mapping',
    });
    this.securityGroup.addIngressRule(this.clientSecurityGroup, ec2.Port.tcp(MSK_IAM_PORT), 'Kafka clients');
    this.securityGroup.addIngressRule(
      this.securityGroup,
      ec2.Port.tcp(MSK_IAM_PORT),
      'Lambda event source mapping',
    );

    // One name per mode. Switching mode creates the new cluster before CloudFormation deletes the old one,
    // and MSK refuses a second cluster with a name in use (CreateCluster / CreateClusterV2: 409 "This
    // cluster name already exists"). The serverless name is the one this construct always had.
    const suffix = props.mode === 'serverless' ? '' : '-provisioned';
    this.clusterName = `${Names.uniqueResourceName(this, { maxLength: 64 - suffix.length, separator: '-' })}${suffix}`;
    this.arnClusterName = this.clusterName;
    if (props.mode === 'serverless') {
      const cluster = new msk.CfnServerlessCluster(this, 'Serverless', {
        clusterName: this.clusterName,
        clientAuthentication: { sasl: { iam: { enabled: true } } },
        vpcConfigs: [{ subnetIds: subnets.subnetIds, securityGroups: [this.securityGroup.securityGroupId] }],
      });
      this.clusterArn = cluster.attrArn;
    } else {
      const brokerLogs = new logs.LogGroup(this, 'BrokerLogs', {
        retention: props.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const cluster = new msk.CfnCluster(this, 'Provisioned', {
        clusterName: this.clusterName,
        kafkaVersion: props.kafkaVersion ?? '3.6.0',
        numberOfBrokerNodes: props.brokerCount ?? 2,
        brokerNodeGroupInfo: {
          clientSubnets: subnets.subnetIds,
          instanceType: props.brokerInstanceType ?? 'kafka.t3.small',
          securityGroups: [this.securityGroup.securityGroupId],
          storageInfo: { ebsStorageInfo: { volumeSize: props.volumeSizeGiB ?? 100 } },
        },
        clientAuthentication: { sasl: { iam: { enabled: true } }, unauthenticated: { enabled: false } },
        encryptionInfo: { encryptionInTransit: { clientBroker: 'TLS', inCluster: true } },
        loggingInfo: { brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: brokerLogs.logGroupName } } },
      });
      this.clusterArn = cluster.attrArn;
    }

    const lookup = new cr.AwsCustomResource(this, 'BootstrapBrokers', {
      onUpdate: {
        service: 'Kafka',
        action: 'getBootstrapBrokers',
        parameters: { ClusterArn: this.clusterArn },
        physicalResourceId: cr.PhysicalResourceId.of(this.clusterName),
        outputPaths: ['BootstrapBrokerStringSaslIam'],
      },
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [this.clusterArn] }),
      installLatestAwsSdk: false,
    });
    this.bootstrapBrokers = lookup.getResponseField('BootstrapBrokerStringSaslIam');
    acknowledgeAwsCustomResourceProvider(Stack.of(this));

    const names = kafkaParameterNames(props.parameterPrefix);
    const publish = (id: string, parameterName: string, stringValue: string, description: string) =>
      new ssm.StringParameter(this, id, { parameterName, stringValue, description });
    publish('ClusterArnParameter', names.clusterArn, this.clusterArn, 'ARN of the MSK cluster');
    publish(
      'BootstrapBrokersParameter',
      names.bootstrapBrokers,
      this.bootstrapBrokers,
      'Bootstrap brokers of the MSK cluster for IAM clients',
    );
    publish(
      'ClientSecurityGroupIdParameter',
      names.clientSecurityGroupId,
      this.clientSecurityGroup.securityGroupId,
      'Security group that Kafka clients of the MSK cluster join',
    );
  }

  /**
   * The cluster as another stack sees it: read from the SSM parameters under `parameterPrefix` at
   * deploy. The reading stack must depend on the stack of the cluster (addDependency), because no
   * token reference orders the two any more.
   */
  static fromParameters(scope: Construct, id: string, parameterPrefix: string): IKafkaCluster {
    return new ImportedKafkaCluster(scope, id, parameterPrefix);
  }
}

class ImportedKafkaCluster extends KafkaClusterBase {
  readonly clusterArn: string;
  readonly bootstrapBrokers: string;
  readonly clientSecurityGroup: ec2.ISecurityGroup;
  /** `arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>`: the name, read from the ARN. */
  protected readonly arnClusterName: string;

  constructor(scope: Construct, id: string, parameterPrefix: string) {
    super(scope, id);
    const names = kafkaParameterNames(parameterPrefix);
    this.clusterArn = ssm.StringParameter.valueForStringParameter(this, names.clusterArn);
    this.bootstrapBrokers = ssm.StringParameter.valueForStringParameter(this, names.bootstrapBrokers);
    this.clientSecurityGroup = ec2.SecurityGroup.fromSecurityGroupId(
      this,
      'ClientSecurityGroup',
      ssm.StringParameter.valueForStringParameter(this, names.clientSecurityGroupId),
      // Its rules belong to the cluster's stack; nothing here may add to them.
      { mutable: false },
    );
    this.arnClusterName = Fn.select(1, Fn.split('/', this.clusterArn));
  }
}

/** The singleton Lambda behind every AwsCustomResource of a stack is CDK's; acknowledge its findings once. */
function acknowledgeAwsCustomResourceProvider(stack: Stack): void {
  const provider = stack.node.tryFindChild(
    `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
  );
  if (!provider) return;
  const role = provider.node.tryFindChild('ServiceRole');
  acknowledge(
    provider,
    'AwsSolutions-L1',
    'CDK owns the runtime of the AwsCustomResource provider; it runs only during deployments.',
  );
  if (role) {
    acknowledge(
      role,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'The AwsCustomResource provider needs only to write its logs; the managed policy grants exactly that.',
    );
  }
}
