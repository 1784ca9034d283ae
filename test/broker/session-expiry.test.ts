/**
 * A member that dies without leaving (SIGKILL) is expired after its session timeout, the group rebalances,
 * and the surviving member takes over every partition.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../localstack/paths.ts';
import { createTopic, suiteBroker, testKafka, until } from './helpers.ts';

describe('consumer group session expiry', () => {
  const logs: string[] = [];
  const broker = suiteBroker('broker-session', { log: (l) => logs.push(l) });

  it('expires a killed member and hands its partitions to the survivor', async () => {
    // Prepare
    const { kafka } = testKafka(broker.bootstrap);
    await createTopic(kafka, 'expiry', 3);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(PROJECT_ROOT, 'test/broker/member-process.ts'),
        broker.bootstrap,
        'expiry',
        'eg',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], cwd: PROJECT_ROOT },
    );
    let childOut = '';
    child.stdout.on('data', (d: Buffer) => (childOut += d.toString()));
    await until(() => childOut.includes('assigned 0,1,2'), 'the first member to own all partitions');
    let assigned: number[] = [];
    const survivor = kafka.consumer({ groupId: 'eg', heartbeatInterval: 300, maxWaitTimeInMs: 200 });
    survivor.on(survivor.events.GROUP_JOIN, (e) => (assigned = e.payload.memberAssignment.expiry ?? []));
    await survivor.connect();
    await survivor.subscribe({ topic: 'expiry', fromBeginning: true });
    await survivor.run({ eachMessage: async () => undefined });
    await until(
      () => assigned.length > 0 && assigned.length < 3,
      'the partitions to be split between two members',
    );
    const splitWhileBoth = assigned.length;

    // Act
    child.kill('SIGKILL');
    await until(
      () => assigned.length === 3,
      'the survivor to own all partitions after the session timeout',
      30_000,
    );
    await survivor.disconnect();

    // Assess
    expect(splitWhileBoth).toBeLessThan(3);
    expect(logs.some((l) => /session expired after 6000 ms/.test(l))).toBe(true);
  });
});
