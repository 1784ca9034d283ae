/**
 * Creating the Kafka topic at deploy time, as a CloudFormation custom resource.
 * The decision (create, add partitions, leave alone) is pure; `applyTopic` runs it on a kafkajs admin.
 */
import type { Admin } from 'kafkajs';
import { ConfigError } from '../core/errors.ts';

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
}

export type TopicChange =
  | { readonly kind: 'create'; readonly partitions: number }
  | { readonly kind: 'grow'; readonly from: number; readonly to: number }
  | { readonly kind: 'none' };

/**
 * What to do to reach `spec` from a topic that has `existingPartitions` (undefined: absent).
 * Kafka cannot remove partitions, so asking for fewer is a configuration error, not a silent no-op.
 */
export function planTopicChange(spec: TopicSpec, existingPartitions: number | undefined): TopicChange {
  if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
    throw new ConfigError(
      'partitions',
      `${spec.partitions} is not a positive whole number`,
      'Use 1 or more.',
    );
  }
  if (existingPartitions === undefined) return { kind: 'create', partitions: spec.partitions };
  if (spec.partitions > existingPartitions)
    return { kind: 'grow', from: existingPartitions, to: spec.partitions };
  if (spec.partitions < existingPartitions) {
    throw new ConfigError(
      'partitions',
      `${spec.partitions} is fewer than the ${existingPartitions} partitions topic '${spec.topic}' has; Kafka cannot remove partitions`,
      `Set partitions to ${existingPartitions} or more.`,
    );
  }
  return { kind: 'none' };
}

/** Bring the topic to `spec` through a connected admin client; returns what was done. */
export async function applyTopic(admin: Admin, spec: TopicSpec): Promise<TopicChange> {
  const topics = await admin.listTopics();
  let existing: number | undefined;
  if (topics.includes(spec.topic)) {
    const metadata = await admin.fetchTopicMetadata({ topics: [spec.topic] });
    existing = metadata.topics[0]?.partitions.length;
  }
  const change = planTopicChange(spec, existing);
  if (change.kind === 'create') {
    // replicationFactor -1 takes the cluster default (3 on MSK Serverless, which refuses other values).
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: spec.topic, numPartitions: change.partitions, replicationFactor: -1 }],
    });
  } else if (change.kind === 'grow') {
    await admin.createPartitions({ topicPartitions: [{ topic: spec.topic, count: change.to }] });
  }
  return change;
}
