import { DescribeExecutionCommand, ListExecutionsCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { backfill, backfillWindows, type WorkflowTarget } from '../../bin/commands/runs.ts';
import {
  STATE_MACHINE_ARN,
  schedulerClient,
  startTestWorkflow,
  type TestWorkflow,
} from './local-endpoints.ts';

let w: TestWorkflow | undefined;
afterEach(async () => {
  w?.sfn.destroy();
  await w?.endpoint.close();
  w = undefined;
});

function target(wf: TestWorkflow): WorkflowTarget {
  return {
    sfn: wf.sfn,
    scheduler: schedulerClient(wf.endpoint.url),
    stateMachineArn: STATE_MACHINE_ARN,
    scheduleName: 'unused',
    scheduleGroup: 'default',
    where: 'local',
    local: true,
    pollMs: 5,
    close: async () => undefined,
  };
}

const NOW = new Date('2026-12-01T12:34:00Z');
const day = (d: number) => ({
  start: `2026-11-${d}T00:00:00.000Z`,
  end: `2026-11-${d + 1}T00:00:00.000Z`,
});

async function executedWindows(wf: TestWorkflow) {
  const list = await wf.sfn.send(new ListExecutionsCommand({ stateMachineArn: STATE_MACHINE_ARN }));
  const windows: string[] = [];
  for (const e of list.executions ?? []) {
    const d = await wf.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
    windows.push((JSON.parse(d.input as string) as { window: { start: string } }).window.start.slice(0, 10));
  }
  return windows.sort();
}

describe('mds runs backfill, through @aws-sdk/client-sfn on the local endpoint', () => {
  it('runs one execution per day, at most --concurrency at once, and skips the days that succeeded', async () => {
    // Prepare
    w = await startTestWorkflow();
    w.taskMs = 40;
    const before = await w.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: STATE_MACHINE_ARN,
        name: 'day-21',
        input: JSON.stringify({ window: day(21) }),
      }),
    );
    await w.endpoint.idle();
    w.concurrency.max = 0;
    const windows = backfillWindows('2026-11-20', '2026-11-23', 'day', NOW);
    // Act
    const results = await backfill(target(w), windows, { concurrency: 2 });
    // Assess
    expect(before.executionArn).toBeDefined();
    expect(windows).toEqual([day(20), day(21), day(22)]);
    expect(results.map((r) => [r.window.start.slice(0, 10), r.status])).toEqual([
      ['2026-11-20', 'SUCCEEDED'],
      ['2026-11-21', 'SKIPPED (succeeded before)'],
      ['2026-11-22', 'SUCCEEDED'],
    ]);
    expect(await executedWindows(w)).toEqual(['2026-11-20', '2026-11-21', '2026-11-22']);
    expect(w.concurrency.max).toBe(2);
  });

  it('keeps to --concurrency 1, and --rerun runs the days that succeeded again', async () => {
    // Prepare
    w = await startTestWorkflow();
    w.taskMs = 20;
    const windows = backfillWindows('2026-11-20', '2026-11-23', 'day', NOW);
    await backfill(target(w), windows, { concurrency: 1 });
    const firstMax = w.concurrency.max;
    // Act
    const again = await backfill(target(w), windows, { concurrency: 3 });
    const rerun = await backfill(target(w), windows, { concurrency: 3, rerun: true });
    // Assess
    expect(firstMax).toBe(1);
    expect(again.every((r) => r.status.startsWith('SKIPPED'))).toBe(true);
    expect(rerun.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(w.concurrency.max).toBe(3);
    expect(await executedWindows(w)).toHaveLength(6);
  });

  it('cuts a range by hour', () => {
    expect(backfillWindows('2026-11-20T00:00:00Z', '2026-11-20T03:00:00Z', 'hour', NOW)).toHaveLength(3);
  });

  it('refuses a reversed range and one in the future, naming START or END', () => {
    expect(() => backfillWindows('2026-11-23', '2026-11-20', 'day', NOW)).toThrow(/END/);
    expect(() => backfillWindows('2026-11-30', '2026-12-05', 'day', NOW)).toThrow(/future/);
  });
});
