/**
 * Custom resource handler (CDK Provider framework): creates the Kafka topic when the stack is created,
 * adds partitions when the setting grows, and keeps the topic (and its data) when the stack is deleted.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { envContract, envString } from '../core/env.ts';
import { createKafka, KAFKA_AUTH } from '../core/kafka.ts';
import { applyTopic } from './topic.ts';

/** KAFKA_AUTH as for the producer; the brokers come in the resource's properties. */
export const topicAdminEnv = envContract('the topic admin function', {
  KAFKA_AUTH,
  AWS_REGION: envString('the region MSK IAM tokens are signed for (set by Lambda)', 'us-east-1'),
});

interface TopicProperties {
  readonly BootstrapBrokers: string;
  readonly Topic: string;
  readonly Partitions: string;
}

export const handler = async (
  event: CloudFormationCustomResourceEvent,
): Promise<{ PhysicalResourceId: string; Data?: Record<string, string> }> => {
  const props = event.ResourceProperties as unknown as TopicProperties;
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  const { AWS_REGION: region, KAFKA_AUTH: auth } = topicAdminEnv.read(process.env);
  const kafka = createKafka({
    clientId: 'mds-topic-admin',
    brokers: props.BootstrapBrokers.split(','),
    iamAuth: auth === 'iam' ? { region } : undefined,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    // CloudFormation passes every property as a string.
    const change = await applyTopic(admin, { topic: props.Topic, partitions: Number(props.Partitions) });
    console.log(JSON.stringify({ topic: props.Topic, change }));
    return { PhysicalResourceId: props.Topic, Data: { Topic: props.Topic } };
  } finally {
    await admin.disconnect();
  }
};
