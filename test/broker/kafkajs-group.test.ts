/**
 * kafkajs against the real broker: one producer, two consumers in one group on a 3-partition topic.
 * Every message is consumed exactly once by the group, the partitions are split between the members,
 * and when one member leaves the other takes over its partitions.
 */
import { Partitioners, type Consumer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createTopic, suiteBroker, testKafka, until } from './helpers.ts';

const TOPIC = 'group-test';
const MESSAGES = 100_000;

describe('kafkajs producer and consumer group', () => {
  const broker = suiteBroker('broker-group');

  it('delivers 100,000 messages exactly once across two members and a rebalance', async () => {
    // Prepare
    const { kafka } = testKafka(broker.bootstrap);
    await createTopic(kafka, TOPIC, 3);

    const seen = new Map<number, string>(); // message number -> consumer that got it
    const duplicates: number[] = [];
    const partitionsOf = { a: new Set<number>(), b: new Set<number>() };
    const assignments = { a: [] as number[], b: [] as number[] };
    const consumers: Record<'a' | 'b', Consumer> = {
      a: kafka.consumer({ groupId: 'g', heartbeatInterval: 300, sessionTimeout: 10_000 }),
      b: kafka.consumer({ groupId: 'g', heartbeatInterval: 300, sessionTimeout: 10_000 }),
    };
    for (const name of ['a', 'b'] as const) {
      const c = consumers[name];
      c.on(c.events.GROUP_JOIN, (e) => {
        assignments[name] = e.payload.memberAssignment[TOPIC] ?? [];
      });
      await c.connect();
      await c.subscribe({ topic: TOPIC, fromBeginning: true });
      await c.run({
        eachMessage: async ({ partition, message }) => {
          const n = Number(message.value!.toString());
          if (seen.has(n)) duplicates.push(n);
          seen.set(n, name);
          partitionsOf[name].add(partition);
        },
      });
    }
    await until(
      () =>
        assignments.a.length > 0 &&
        assignments.b.length > 0 &&
        assignments.a.length + assignments.b.length === 3,
      'both members to share the three partitions',
    );
    const splitWhileBoth = { a: [...assignments.a].sort(), b: [...assignments.b].sort() };

    // Act
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    for (let i = 0; i < MESSAGES; i += 5_000) {
      await producer.send({
        topic: TOPIC,
        acks: -1,
        messages: Array.from({ length: 5_000 }, (_, j) => ({
          key: `user-${(i + j) % 997}`,
          value: String(i + j),
        })),
      });
    }
    await producer.disconnect();
    await until(() => seen.size >= MESSAGES * 0.4, 'the group to consume 40% of the messages');
    await consumers.b.disconnect();
    await until(() => assignments.a.length === 3, 'member a to take over all partitions');
    await until(() => seen.size === MESSAGES, 'every message to be consumed');
    await consumers.a.disconnect();

    // Assess
    expect(duplicates).toEqual([]);
    expect(seen.size).toBe(MESSAGES);
    expect(splitWhileBoth.a.concat(splitWhileBoth.b).sort()).toEqual([0, 1, 2]);
    expect(partitionsOf.b.size).toBeGreaterThan(0);
    expect([...partitionsOf.a].sort()).toEqual([0, 1, 2]);
  });
});
