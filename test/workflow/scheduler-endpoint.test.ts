import {
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { ListExecutionsCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { changeSchedule } from '../../bin/commands/schedule.ts';
import type { WorkflowTarget } from '../../bin/commands/runs.ts';
import {
  LOCAL_SCHEDULE_NAME,
  ScheduleStore,
  startSchedulerEndpoint,
} from '../../localstack/workflow/scheduler-endpoint.ts';
import { runStoredSchedule, type SchedulerClock } from '../../localstack/workflow/scheduler.ts';
import type { LocalEndpoint } from '../../localstack/workflow/sfn-endpoint.ts';
import {
  STATE_MACHINE_ARN,
  schedulerClient,
  startTestWorkflow,
  type TestWorkflow,
} from './local-endpoints.ts';

/** A clock the test moves by hand. */
class ManualClock implements SchedulerClock {
  private sleepers: { time: number; wake: () => void }[] = [];
  constructor(public t: number) {}
  now = () => this.t;
  sleepUntil(time: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (time <= this.t || signal.aborted) return resolve();
      this.sleepers.push({ time, wake: resolve });
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }
  async advanceTo(t: number): Promise<void> {
    this.t = t;
    const due = this.sleepers.filter((s) => s.time <= t);
    this.sleepers = this.sleepers.filter((s) => s.time > t);
    for (const s of due) s.wake();
    await new Promise((r) => setTimeout(r, 50));
  }
}

let w: TestWorkflow | undefined;
let scheduler: LocalEndpoint | undefined;
afterEach(async () => {
  w?.sfn.destroy();
  await w?.endpoint.close();
  await scheduler?.close();
  w = scheduler = undefined;
});

const HOUR = 3_600_000;

describe('the local Scheduler endpoint, through @aws-sdk/client-scheduler', () => {
  it('a paused schedule fires no run, a resumed one does', async () => {
    // Prepare
    w = await startTestWorkflow();
    const store = new ScheduleStore(
      { expression: 'cron(5 * * * ? *)', timeZone: 'UTC', enabled: true },
      STATE_MACHINE_ARN,
    );
    scheduler = await startSchedulerEndpoint(store);
    const client = schedulerClient(scheduler.url);
    const t: WorkflowTarget = {
      sfn: w.sfn,
      scheduler: client,
      stateMachineArn: STATE_MACHINE_ARN,
      scheduleName: LOCAL_SCHEDULE_NAME,
      scheduleGroup: 'default',
      where: 'local',
      local: true,
      pollMs: 5,
      close: async () => undefined,
    };
    const clock = new ManualClock(Date.parse('2026-12-01T12:30:00Z'));
    const stop = new AbortController();
    let n = 0;
    const wf = w;
    const loop = runStoredSchedule({
      schedule: store.changing(),
      clock,
      signal: stop.signal,
      fire: async (at) => {
        n += 1;
        await wf.sfn.send(
          new StartExecutionCommand({
            stateMachineArn: STATE_MACHINE_ARN,
            name: `scheduled-${n}`,
            input: JSON.stringify({ scheduledTime: at.toISOString() }),
          }),
        );
      },
    });
    const runs = async () =>
      (await wf.sfn.send(new ListExecutionsCommand({ stateMachineArn: STATE_MACHINE_ARN }))).executions ?? [];
    // Act
    const paused = await changeSchedule(t, { state: 'DISABLED' });
    await clock.advanceTo(clock.t + 3 * HOUR);
    const whilePaused = (await runs()).length;
    const resumed = await changeSchedule(t, { state: 'ENABLED' });
    await clock.advanceTo(clock.t + HOUR);
    const afterResume = (await runs()).length;
    stop.abort();
    await loop;
    // Assess
    expect(paused.State).toBe('DISABLED');
    expect(paused.ScheduleExpression).toBe('cron(5 * * * ? *)');
    expect(whilePaused).toBe(0);
    expect(resumed.State).toBe('ENABLED');
    expect(afterResume).toBe(1);
    const listed = await client.send(new ListSchedulesCommand({ State: 'ENABLED' }));
    expect(listed.Schedules?.map((s) => s.Name)).toEqual([LOCAL_SCHEDULE_NAME]);
  });

  it('sets the expression, refuses a bad one with ValidationException, and an unknown name with ResourceNotFound', async () => {
    // Prepare
    const store = new ScheduleStore(
      { expression: 'cron(5 * * * ? *)', timeZone: 'UTC', enabled: true },
      STATE_MACHINE_ARN,
    );
    scheduler = await startSchedulerEndpoint(store);
    const client = schedulerClient(scheduler.url);
    const t = {
      scheduler: client,
      scheduleName: LOCAL_SCHEDULE_NAME,
      scheduleGroup: 'default',
    } as WorkflowTarget;
    // Act
    const set = await changeSchedule(t, { expression: 'rate(2 hours)' });
    const bad = await changeSchedule(t, { expression: 'cron(5 * * *)' }).catch((e: unknown) => e);
    const unknown = await client.send(new GetScheduleCommand({ Name: 'nope' })).catch((e: unknown) => e);
    // Assess
    expect(set).toMatchObject({ ScheduleExpression: 'rate(2 hours)', State: 'ENABLED' });
    expect(store.get().expression).toBe('rate(2 hours)');
    expect(bad).toBeInstanceOf(ValidationException);
    expect(String(bad)).toMatch(/six fields/);
    expect(unknown).toBeInstanceOf(ResourceNotFoundException);
  });

  it('a pause saved by another process reaches the serving loop through the schedule file', async () => {
    // Prepare
    const dir = mkdtempSync(path.join(tmpdir(), 'mds-schedule-'));
    const file = path.join(dir, 'workflow-schedule.json');
    const configured = { expression: 'cron(5 * * * ? *)', timeZone: 'UTC', enabled: true };
    const serving = new ScheduleStore(configured, STATE_MACHINE_ARN, file);
    const stop = serving.watch(20);
    let changes = 0;
    serving.onChange(() => (changes += 1));
    try {
      // Act
      new ScheduleStore(configured, STATE_MACHINE_ARN, file).update({ state: 'DISABLED' });
      for (let i = 0; i < 500 && changes === 0; i += 1) await new Promise((r) => setTimeout(r, 20));
      // Assess
      expect(changes).toBe(1);
      expect(serving.workflowSchedule().enabled).toBe(false);
      expect(serving.changing().current().next(new Date('2026-12-01T12:00:00Z'))).toBeUndefined();
    } finally {
      stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
