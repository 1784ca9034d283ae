import type { Admin } from 'kafkajs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../localstack/broker/index.ts';
import { ConfigError } from '../../lambdas/core/errors.ts';
import { createKafka } from '../../lambdas/core/kafka.ts';
import { applyTopic, planTopicChange } from '../../lambdas/topic-admin/topic.ts';

describe('planTopicChange (the topic custom resource)', () => {
  it('creates a missing topic with the configured partitions', () => {
    expect(planTopicChange({ topic: 't', partitions: 6 }, undefined)).toEqual({
      kind: 'create',
      partitions: 6,
    });
  });

  it('adds partitions when the setting grows', () => {
    expect(planTopicChange({ topic: 't', partitions: 12 }, 6)).toEqual({ kind: 'grow', from: 6, to: 12 });
  });

  it('leaves a topic that already matches alone', () => {
    expect(planTopicChange({ topic: 't', partitions: 6 }, 6)).toEqual({ kind: 'none' });
  });

  it('refuses to shrink, naming the setting and the smallest allowed value', () => {
    expect(() => planTopicChange({ topic: 't', partitions: 3 }, 6)).toThrow(ConfigError);
    expect(() => planTopicChange({ topic: 't', partitions: 3 }, 6)).toThrow(
      "partitions: 3 is fewer than the 6 partitions topic 't' has; Kafka cannot remove partitions. Set partitions to 6 or more.",
    );
  });

  it('rejects a partition count that is not a positive whole number', () => {
    expect(() => planTopicChange({ topic: 't', partitions: Number('x') }, undefined)).toThrow(
      'partitions: NaN',
    );
  });
});

describe('applyTopic against the local Kafka-protocol broker', () => {
  let broker: RunningBroker;
  let dataDir: string;
  let admin: Admin;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'mds-topic-admin-'));
    broker = await startBroker({ dataDir, port: 0, autoCreateTopics: false });
    admin = createKafka({ brokers: [broker.bootstrap], clientId: 'topic-admin-test', retries: 1 }).admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.disconnect();
    await broker?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates the topic once and leaves it alone on the next deploy', async () => {
    // Act
    const first = await applyTopic(admin, { topic: 'spotify-events', partitions: 4 });
    const second = await applyTopic(admin, { topic: 'spotify-events', partitions: 4 });
    // Assess
    expect(first).toEqual({ kind: 'create', partitions: 4 });
    expect(second).toEqual({ kind: 'none' });
    const metadata = await admin.fetchTopicMetadata({ topics: ['spotify-events'] });
    expect(metadata.topics[0]?.partitions).toHaveLength(4);
  });
});
