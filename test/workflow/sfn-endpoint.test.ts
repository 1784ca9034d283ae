import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  ExecutionNotRedrivable,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  StartExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { STATE_MACHINE_ARN, startTestWorkflow, type TestWorkflow } from './local-endpoints.ts';

let w: TestWorkflow | undefined;
afterEach(async () => {
  w?.sfn.destroy();
  await w?.endpoint.close();
  w = undefined;
});

async function finished(sfn: SFNClient, executionArn: string) {
  for (;;) {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status !== 'RUNNING') return d;
    await new Promise((r) => setTimeout(r, 10));
  }
}

const TASK = ['TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded', 'TaskStateExited'];

describe('the local Step Functions endpoint, through @aws-sdk/client-sfn', () => {
  it('starts, describes, lists an execution and gives its history in the console event types and order', async () => {
    // Prepare
    w = await startTestWorkflow();
    const input = { window: { start: '2026-11-20T00:00:00.000Z', end: '2026-11-21T00:00:00.000Z' } };
    // Act
    const started = await w.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: STATE_MACHINE_ARN,
        name: 'e1',
        input: JSON.stringify(input),
      }),
    );
    const done = await finished(w.sfn, started.executionArn as string);
    const list = await w.sfn.send(new ListExecutionsCommand({ stateMachineArn: STATE_MACHINE_ARN }));
    const history = await w.sfn.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn }));
    // Assess
    expect(started.startDate).toBeInstanceOf(Date);
    expect(done).toMatchObject({ status: 'SUCCEEDED', name: 'e1', redriveCount: 0 });
    expect(JSON.parse(done.input as string)).toEqual(input);
    expect(done.stopDate!.getTime()).toBeGreaterThanOrEqual(done.startDate!.getTime());
    expect(list.executions?.map((e) => [e.name, e.status])).toEqual([['e1', 'SUCCEEDED']]);
    const events = history.events ?? [];
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      ...TASK,
      ...TASK,
      ...TASK,
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    expect(events[1]?.stateEnteredEventDetails?.name).toBe('PlanWindow');
    expect(events[2]?.taskScheduledEventDetails).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke',
    });
    expect(events[7]?.taskScheduledEventDetails).toMatchObject({
      resourceType: 'ecs',
      resource: 'runTask.sync',
    });
    expect(events[0]?.timestamp).toBeInstanceOf(Date);
  });

  it('redrives a run whose dbt step failed from that step, keeping the planner output, to success', async () => {
    // Prepare
    w = await startTestWorkflow();
    w.dbtFailures = 1;
    const started = await w.sfn.send(
      new StartExecutionCommand({ stateMachineArn: STATE_MACHINE_ARN, name: 'fails-once', input: '{}' }),
    );
    const failed = await finished(w.sfn, started.executionArn as string);
    // Act
    await w.sfn.send(new RedriveExecutionCommand({ executionArn: started.executionArn }));
    const redriven = await finished(w.sfn, started.executionArn as string);
    const history = await w.sfn.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn }));
    // Assess
    expect(failed).toMatchObject({
      status: 'FAILED',
      error: 'States.TaskFailed',
      redriveStatus: 'REDRIVABLE',
    });
    expect(failed.cause).toContain('fct_plays');
    expect(redriven).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1, redriveStatus: 'NOT_REDRIVABLE' });
    expect(redriven.redriveDate).toBeInstanceOf(Date);
    expect(w.calls).toEqual({ PlanWindow: 1, RunDbt: 2, PublishSummary: 1 });
    const types = (history.events ?? []).map((e) => e.type);
    const redrive = types.indexOf('ExecutionRedriven');
    expect(types.slice(redrive - 3, redrive + 2)).toEqual([
      'TaskStarted',
      'TaskFailed',
      'ExecutionFailed',
      'ExecutionRedriven',
      'TaskStateEntered',
    ]);
    const reentered = history.events?.[redrive + 1]?.stateEnteredEventDetails;
    expect(reentered?.name).toBe('RunDbt');
    expect(JSON.parse(reentered?.input as string)).toEqual({ plan: { runId: 'run-1' } });
    expect(types.at(-1)).toBe('ExecutionSucceeded');
  });

  it('refuses to redrive a succeeded execution, one stopped more than 14 days ago, and an unknown one', async () => {
    // Prepare
    let clock = Date.now();
    w = await startTestWorkflow({ now: () => clock });
    const ok = await w.sfn.send(
      new StartExecutionCommand({ stateMachineArn: STATE_MACHINE_ARN, name: 'ok' }),
    );
    await finished(w.sfn, ok.executionArn as string);
    w.dbtFailures = 1;
    const old = await w.sfn.send(
      new StartExecutionCommand({ stateMachineArn: STATE_MACHINE_ARN, name: 'old' }),
    );
    await finished(w.sfn, old.executionArn as string);
    clock += 15 * 86_400_000;
    // Act
    const succeeded = w.sfn.send(new RedriveExecutionCommand({ executionArn: ok.executionArn }));
    const tooOld = w.sfn.send(new RedriveExecutionCommand({ executionArn: old.executionArn }));
    const unknown = w.sfn.send(
      new DescribeExecutionCommand({ executionArn: `${ok.executionArn as string}-nope` }),
    );
    // Assess
    await expect(succeeded).rejects.toBeInstanceOf(ExecutionNotRedrivable);
    await expect(succeeded).rejects.toThrow(/SUCCEEDED/);
    await expect(tooOld).rejects.toBeInstanceOf(ExecutionNotRedrivable);
    await expect(tooOld).rejects.toThrow(/more than 14 days ago/);
    await expect(unknown).rejects.toBeInstanceOf(ExecutionDoesNotExist);
  });
});
