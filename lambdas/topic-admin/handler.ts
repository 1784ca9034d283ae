/**
 * Custom resource handler (CDK Provider framework): creates the Kafka topic when the stack is created,
 * adds partitions when the setting grows, and keeps the topic (and its data) when the stack is deleted.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ConfigError } from '../shared/errors.ts';
import { createKafka } from '../shared/kafka.ts';
import { applyTopic } from './topic.ts';

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
  const region = process.env.AWS_REGION ?? 'us-east-1';
  // KAFKA_AUTH as for the producer: `iam` (MSK, the default) or `plaintext` (the local broker).
  const auth = process.env.KAFKA_AUTH ?? 'iam';
  if (auth !== 'iam' && auth !== 'plaintext') {
    throw new ConfigError('KAFKA_AUTH', `must be "iam" or "plaintext", got "${auth}"`, 'Use iam for MSK.');
  }
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
