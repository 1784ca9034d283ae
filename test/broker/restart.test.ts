/**
 * Restart: the broker (the `mds broker start` process) is killed in the middle of a consumer's stream and
 * started again on the same data directory. Nothing acknowledged is lost, and the consumer group resumes
 * from its committed offsets: a record is delivered twice only if it came after the last acknowledged commit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Partitioners } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../localstack/paths.ts';
import { tempDir, testKafka, until } from './helpers.ts';

const TOPIC = 'restart-test';
const MESSAGES = 30_000;

interface BrokerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly exited: Promise<number | null>;
  output(): string;
}

async function startBrokerProcess(dataDir: string, port: number): Promise<BrokerProcess> {
  const child = spawn(
    process.execPath,
    [path.join(PROJECT_ROOT, 'bin/mds.mjs'), 'broker', 'start', '--port', String(port), '--data', dataDir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await until(
    () => /listening on 127\.0\.0\.1:\d+/.test(out) || child.exitCode !== null,
    'the broker to listen',
    30_000,
  );
  const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
  if (!m) throw new Error(`broker did not start: ${out}`);
  return { child, port: Number(m[1]), exited, output: () => out };
}

describe('broker restart', () => {
  const data = tempDir('broker-restart');
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    data.remove();
  });

  it('keeps every record and the committed offsets across a crash, and stops cleanly on SIGTERM', async () => {
    // Prepare
    const first = await startBrokerProcess(data.dir, 0);
    children.push(first.child);
    const bootstrap = `127.0.0.1:${first.port}`;
    const { kafka } = testKafka(bootstrap);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    for (let i = 0; i < MESSAGES; i += 1_000) {
      await producer.send({
        topic: TOPIC,
        acks: -1,
        messages: Array.from({ length: 1_000 }, (_, j) => ({
          key: `user-${(i + j) % 101}`,
          value: String(i + j),
        })),
      });
    }
    await producer.disconnect();

    const deliveries = new Map<string, number>(); // "partition:offset" -> times delivered
    const values = new Set<number>();
    const committed = new Map<number, number>(); // partition -> last acknowledged commit
    let killed = false;
    const consumer = kafka.consumer({
      groupId: 'restart-group',
      heartbeatInterval: 500,
      maxBytesPerPartition: 64 * 1024,
    });
    consumer.on(consumer.events.COMMIT_OFFSETS, (e) => {
      for (const t of e.payload.topics)
        for (const p of t.partitions) committed.set(p.partition, Number(p.offset));
    });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const key = `${partition}:${message.offset}`;
        deliveries.set(key, (deliveries.get(key) ?? 0) + 1);
        values.add(Number(message.value!.toString()));
      },
    });

    // Act: crash the broker a third of the way through, then start it again on the same port and data.
    await until(() => values.size >= MESSAGES / 3, 'a third of the stream to be consumed');
    const committedAtKill = new Map(committed);
    const consumedAtKill = values.size;
    first.child.kill('SIGKILL');
    killed = (await first.exited) === null;
    const second = await startBrokerProcess(data.dir, first.port);
    children.push(second.child);
    await until(
      () => values.size === MESSAGES,
      'the consumer to finish the stream after the restart',
      90_000,
    );
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(TOPIC);
    const groupOffsets = await admin.fetchOffsets({ groupId: 'restart-group', topics: [TOPIC] });
    await admin.disconnect();
    second.child.kill('SIGTERM');
    const exitCode = await second.exited;

    // Assess
    expect(killed).toBe(true);
    expect(consumedAtKill).toBeLessThan(MESSAGES);
    expect(ends.reduce((s, p) => s + Number(p.high), 0)).toBe(MESSAGES);
    expect(values.size).toBe(MESSAGES);
    const redelivered = [...deliveries]
      .filter(([, n]) => n > 1)
      .map(([k]) => k.split(':').map(Number) as [number, number]);
    for (const [partition, offset] of redelivered) {
      expect(offset).toBeGreaterThanOrEqual(committedAtKill.get(partition) ?? 0);
    }
    expect(groupOffsets[0]!.partitions.reduce((s, p) => s + Number(p.offset), 0)).toBe(MESSAGES);
    expect(exitCode).toBe(0);
    expect(second.output()).toMatch(/broker: stopped/);
  });
});
