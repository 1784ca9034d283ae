import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** The VPC's address range, written out so security group rules hold a literal CIDR that reviews can read. */
export const VPC_CIDR = '10.0.0.0/16';

export interface NetworkStackProps extends StackProps {
  /** NAT gateways: the way out to Snowflake and public registries. 0 leaves the private subnets without internet. */
  readonly natGateways: number;
  /** Private endpoints for the AWS services the functions, the event source mapping and Fargate call. */
  readonly interfaceEndpoints: boolean;
  readonly logRetention: logs.RetentionDays;
}

/**
 * The VPC: two availability zones, public subnets only for NAT, private subnets for MSK, the in-VPC
 * functions and the dbt task; an S3 gateway endpoint (free) so Bronze and ECR layers bypass NAT; an
 * SQS endpoint for the event source mapping's on-failure queue; flow logs to CloudWatch.
 */
export class NetworkStack extends Stack {
  readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(VPC_CIDR),
      maxAzs: 2,
      natGateways: props.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      flowLogs: {
        all: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(
            new logs.LogGroup(this, 'FlowLogs', {
              retention: props.logRetention,
              removalPolicy: RemovalPolicy.DESTROY,
            }),
          ),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
    });
    const endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'Interface endpoints: HTTPS from inside the VPC',
      allowAllOutbound: false,
    });
    endpointSecurityGroup.addIngressRule(ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(443), 'HTTPS from the VPC');
    const addEndpoint = (name: string, service: ec2.InterfaceVpcEndpointAwsService) =>
      this.vpc.addInterfaceEndpoint(name, {
        service,
        privateDnsEnabled: true,
        open: false,
        securityGroups: [endpointSecurityGroup],
      });

    // SQS in every environment, whatever interfaceEndpoints says: the MSK event source mapping sends
    // discarded batches to its SQS on-failure queue from the cluster's VPC, and Lambda's guide
    // ("Capturing discarded batches for an Amazon MSK event source") requires a VPC endpoint for the
    // on-failure destination service inside the cluster VPC; NAT is not named as an alternative. It
    // costs an endpoint-hour per AZ (about $15 a month for two), which is why the other services below
    // stay optional.
    addEndpoint('Sqs', ec2.InterfaceVpcEndpointAwsService.SQS);

    if (props.interfaceEndpoints) {
      const services: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
        Sts: ec2.InterfaceVpcEndpointAwsService.STS,
        Lambda: ec2.InterfaceVpcEndpointAwsService.LAMBDA,
        SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
        EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
        Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
      };
      for (const [name, service] of Object.entries(services)) addEndpoint(name, service);
    }
  }
}
