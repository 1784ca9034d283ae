/**
 * The bootstrap brokers of a deployed environment's MSK cluster, from MSK itself (`GetBootstrapBrokers` of
 * @aws-sdk/client-kafka: the SASL/IAM string, port 9098). The cluster's ARN comes from the environment's
 * Streaming stack: the physical id of its AWS::MSK::Cluster or AWS::MSK::ServerlessCluster (whose ARN it is),
 * or, for a cluster the stack does not own, the resolved value of the stack parameter that reads its
 * published `.../cluster-arn` SSM parameter (lib/constructs/kafka-cluster.ts).
 */
import { MdsError, UsageError } from '../../lambdas/core/errors.ts';
import { notDeployed } from './runs.ts';

const CLUSTER_TYPES = new Set(['AWS::MSK::Cluster', 'AWS::MSK::ServerlessCluster']);

export async function bootstrapBrokersOf(
  env: string,
  region?: string,
): Promise<{ readonly brokers: string[]; readonly region: string; readonly clusterArn: string }> {
  const { ENVIRONMENT_NAMES } = await import('../../lib/config/environments.ts');
  if (!(ENVIRONMENT_NAMES as readonly string[]).includes(env)) {
    throw new UsageError(`--env ${env}: no such environment; use ${ENVIRONMENT_NAMES.join(' or ')}`);
  }
  const cf = await import('@aws-sdk/client-cloudformation');
  const { KafkaClient, GetBootstrapBrokersCommand } = await import('@aws-sdk/client-kafka');
  const config = region ? { region } : {};
  const cfn = new cf.CloudFormationClient(config);
  const stack = `Mds-${env}-Streaming`;
  const where = await cfn.config.region();
  let clusterArn: string | undefined;
  try {
    const resources = await cfn.send(new cf.DescribeStackResourcesCommand({ StackName: stack }));
    clusterArn = resources.StackResources?.find((r) =>
      CLUSTER_TYPES.has(r.ResourceType ?? ''),
    )?.PhysicalResourceId;
    if (!clusterArn) {
      const described = await cfn.send(new cf.DescribeStacksCommand({ StackName: stack }));
      clusterArn = described.Stacks?.[0]?.Parameters?.map((p) => p.ResolvedValue ?? p.ParameterValue).find(
        (v) => v?.startsWith('arn:aws:kafka:'),
      );
    }
  } catch (err) {
    if (/does not exist/i.test((err as Error).message)) throw notDeployed(env, stack, where);
    throw new MdsError(`--env ${env}: cannot read the stack ${stack}: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    cfn.destroy();
  }
  if (!clusterArn) {
    throw new MdsError(
      `--env ${env}: the stack ${stack} names no MSK cluster; deploy it with \`npx cdk deploy -c env=${env} ${stack}\``,
    );
  }
  const kafka = new KafkaClient(config);
  try {
    const got = await kafka.send(new GetBootstrapBrokersCommand({ ClusterArn: clusterArn }));
    const list = got.BootstrapBrokerStringSaslIam ?? got.BootstrapBrokerStringPublicSaslIam;
    if (!list) {
      throw new MdsError(`--env ${env}: the MSK cluster ${clusterArn} has no IAM (SASL) bootstrap brokers`);
    }
    return {
      brokers: list
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
      region: where,
      clusterArn,
    };
  } finally {
    kafka.destroy();
  }
}
