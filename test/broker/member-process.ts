/**
 * A kafkajs consumer group member in its own process, so a test can kill it without a LeaveGroup.
 * Usage: member-process.ts <bootstrap> <topic> <group>; prints "assigned p,p,..." after every join.
 */
import { createKafka } from '../../lambdas/core/kafka.ts';

const [bootstrap, topic, group] = process.argv.slice(2) as [string, string, string];
const kafka = createKafka({ brokers: [bootstrap], clientId: 'member-process' });
const consumer = kafka.consumer({ groupId: group, sessionTimeout: 6_000, heartbeatInterval: 500 });
consumer.on(consumer.events.GROUP_JOIN, (e) => {
  console.log(`assigned ${(e.payload.memberAssignment[topic] ?? []).join(',')}`);
});
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
await consumer.run({ eachMessage: async () => undefined });
