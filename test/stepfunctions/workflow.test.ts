import '../../lambdas/core/polyfills.ts';
import { StateMachine } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransientError } from '../../lambdas/core/errors.ts';
import { planWindow } from '../../lambdas/planner/plan.ts';
import { assertReconciled, type ReconcileResult } from '../../lambdas/reconcile/reconcile.ts';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { failedRunRequest } from '../../lambdas/publisher/status-change.ts';
import { ConsoleHistory } from '../../localstack/workflow/console-history.ts';
import { executeLocally } from '../../localstack/workflow/executor.ts';
import { statusChangeEvent } from '../../localstack/workflow/status-change.ts';
import { synthesizeLocalWorkflow, type LocalWorkflow } from '../../localstack/workflow/definition.ts';
import { LOAD_INCOMPLETE_ERROR, MAX_LOAD_INVOCATIONS, STATE } from '../../stepfunctions/workflow.ts';
import { only, synthesize, type SynthesizedApp } from '../cdk/synth-helpers.ts';

interface AslState {
  Type: string;
  Next?: string;
  Default?: string;
  Choices?: unknown[];
  Result?: unknown;
  End?: boolean;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  ResultPath?: string | null;
  ResultSelector?: Record<string, string>;
  Retry?: { ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number }[];
  Catch?: { ErrorEquals: string[]; ResultPath?: string; Next: string }[];
  ErrorPath?: string;
  CausePath?: string;
}
interface Asl {
  StartAt: string;
  States: Record<string, AslState>;
}

let local: LocalWorkflow;
let app: SynthesizedApp;
let deployed: Asl;

beforeAll(() => {
  local = synthesizeLocalWorkflow();
  app = synthesize('dev', undefined, { nag: false });
  // The template's DefinitionString is an Fn::Join; tokens sit inside JSON strings, so any text parses.
  const partition = (p: unknown) => JSON.stringify(p) === JSON.stringify({ Ref: 'AWS::Partition' });
  const [, machine] = only(app.templates.pipeline, 'AWS::StepFunctions::StateMachine');
  const [, parts] = (machine.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  deployed = JSON.parse(
    parts.map((p) => (typeof p === 'string' ? p : partition(p) ? 'aws' : 'TOKEN')).join(''),
  ) as Asl;
});

afterAll(() => app?.cleanup());

const tasks = [STATE.plan, STATE.load, STATE.dbt, STATE.reconcile, STATE.publish];

describe('the workflow definition', () => {
  it('is the synthesized state machine: same states, transitions, retries and catches', () => {
    // Prepare
    const def = local.definition as unknown as Asl;
    const shape = (asl: Asl) =>
      Object.fromEntries(
        Object.entries(asl.States).map(([name, s]) => [
          name,
          {
            Type: s.Type,
            Next: s.Next,
            Retry: s.Retry,
            Catch: s.Catch,
            ResultPath: s.ResultPath,
            Resource: s.Resource?.replace(/arn:aws:lambda:.*/, 'LAMBDA'),
          },
        ]),
      );
    const deployedShape = shape(deployed);
    for (const s of Object.values(deployedShape)) if (s.Resource === 'TOKEN') s.Resource = 'LAMBDA';
    // Assess
    expect(local.stateMachineLogicalId).toMatch(/^Workflow/);
    expect(Object.keys(def.States)).toEqual(Object.keys(deployed.States));
    expect(shape(def)).toEqual(deployedShape);
  });

  it('runs PlanWindow -> LoadBronze (until complete) -> RunDbt -> Reconcile -> PublishSummary -> Succeeded', () => {
    const def = local.definition as unknown as Asl;
    const path: string[] = [];
    const next = (name: string) => {
      const state = def.States[name];
      return state?.Type === 'Choice' ? state.Default : state?.Next;
    };
    for (let s: string | undefined = def.StartAt; s; s = next(s)) path.push(s);
    expect(path).toEqual([
      STATE.plan,
      STATE.startLoad,
      STATE.load,
      STATE.loadComplete,
      ...tasks.slice(2),
      STATE.succeeded,
    ]);
    expect(def.States[STATE.succeeded]?.Type).toBe('Succeed');
  });

  it('loops LoadBronze while its result is not complete, at most MAX_LOAD_INVOCATIONS times', () => {
    expect(def(STATE.startLoad)).toMatchObject({
      Type: 'Pass',
      Result: { invocation: 1, previous: null },
      ResultPath: '$.loadLoop',
      Next: STATE.load,
    });
    expect(def(STATE.load).Next).toBe(STATE.loadComplete);
    expect(def(STATE.loadComplete)).toMatchObject({ Type: 'Choice', Default: STATE.dbt });
    expect(def(STATE.loadComplete).Choices).toEqual([
      {
        And: [
          { Variable: '$.load.complete', IsPresent: true },
          { Variable: '$.load.complete', BooleanEquals: false },
          { Variable: '$.loadLoop.invocation', NumericGreaterThanEquals: MAX_LOAD_INVOCATIONS },
        ],
        Next: STATE.loadIncomplete,
      },
      {
        And: [
          { Variable: '$.load.complete', IsPresent: true },
          { Variable: '$.load.complete', BooleanEquals: false },
        ],
        Next: STATE.continueLoad,
      },
    ]);
    expect(def(STATE.continueLoad)).toMatchObject({
      Type: 'Pass',
      Parameters: { 'invocation.$': 'States.MathAdd($.loadLoop.invocation, 1)', 'previous.$': '$.load' },
      ResultPath: '$.loadLoop',
      Next: STATE.load,
    });
    expect(def(STATE.loadIncomplete)).toMatchObject({ Type: 'Fail', Error: LOAD_INCOMPLETE_ERROR });
    expect(MAX_LOAD_INVOCATIONS).toBeGreaterThanOrEqual(100);
  });

  it('resolves every token to a local placeholder', () => {
    const text = JSON.stringify(local.definition);
    expect(text).not.toMatch(/Fn::|"Ref"|\$\{Token/);
    expect(def(STATE.load).Resource).toMatch(
      /^arn:aws:lambda:local:000000000000:function:Loader[0-9A-F]{8}$/,
    );
    expect(def(STATE.dbt).Resource).toBe('arn:aws:states:::ecs:runTask.sync');
    expect(JSON.stringify(def(STATE.dbt).Parameters)).toContain('arn:aws:ecs:local:000000000000:cluster/');
  });

  it('catches no error: a failed task fails the execution in its own state, where a redrive restarts', () => {
    const def = local.definition as unknown as Asl;
    for (const [name, state] of Object.entries(def.States))
      expect({ name, Catch: state.Catch }).toEqual({ name });
    expect(Object.keys(def.States)).not.toContain('RecordFailure');
    expect(Object.keys(def.States)).not.toContain('RunFailed');
    // The one failure the definition makes itself: a load that never completes, with its Error and Cause.
    expect(def.States[STATE.loadIncomplete]).toEqual({
      Type: 'Fail',
      Error: LOAD_INCOMPLETE_ERROR,
      Cause: expect.stringMatching(/^LoadBronze did not finish loading the window in \d+ invocations/),
    });
  });

  it('retries Lambda service errors and TransientError with backoff on every Lambda task', () => {
    for (const name of [STATE.plan, STATE.load, STATE.reconcile, STATE.publish]) {
      const retry = def(name).Retry ?? [];
      expect(retry.find((r) => r.ErrorEquals.includes('Lambda.ServiceException'))).toBeDefined();
      expect(retry.find((r) => r.ErrorEquals.includes('TransientError'))).toMatchObject({
        BackoffRate: 2,
        MaxAttempts: 3,
      });
    }
  });

  it('runs dbt as an ECS .sync job, retried twice after 30 s with backoff 2, with the window in its environment', () => {
    const dbt = def(STATE.dbt);
    expect(dbt.Retry).toEqual([
      { ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 30, MaxAttempts: 2, BackoffRate: 2 },
    ]);
    const env = (
      dbt.Parameters as { Overrides: { ContainerOverrides: { Environment: { Name: string }[] }[] } }
    ).Overrides.ContainerOverrides[0]?.Environment.map((e) => e.Name);
    expect(env).toEqual(['RUN_ID', 'WINDOW_START', 'WINDOW_END', 'ARTIFACTS_PREFIX']);
    expect(dbt.Parameters).toMatchObject({ LaunchType: 'FARGATE' });
    expect(dbt.ResultPath).toBe('$.dbt');
  });

  it('sends each task the payload the design names', () => {
    expect(def(STATE.plan).Parameters).toEqual({ 'input.$': '$', 'executionName.$': '$$.Execution.Name' });
    expect(def(STATE.load).Parameters).toEqual({
      'runId.$': '$.plan.runId',
      'windowStart.$': '$.plan.window.start',
      'windowEnd.$': '$.plan.window.end',
      'lookbackHours.$': '$.plan.lookbackHours',
      'previous.$': '$.loadLoop.previous',
    });
    expect(def(STATE.reconcile).Parameters).toEqual({
      'runId.$': '$.plan.runId',
      'window.$': '$.plan.window',
      'load.$': '$.load',
      'runStartedAt.$': '$$.Execution.StartTime',
    });
    expect(def(STATE.publish).Parameters).toMatchObject({ status: 'SUCCEEDED', 'run.$': '$' });
  });
});

describe('the definition, executed by aws-local-stepfunctions', () => {
  const now = new Date('2026-11-23T11:20:00Z');
  type Handler = (input: unknown) => Promise<unknown>;

  function handlers(overrides: Partial<Record<string, Handler>> = {}): {
    calls: Record<string, unknown[]>;
    map: Record<string, Handler>;
  } {
    const calls: Record<string, unknown[]> = {};
    const base: Record<string, Handler> = {
      [STATE.plan]: async (input) => planWindow(input as never, now, { maxWindowDays: 7, lookbackHours: 2 }),
      [STATE.load]: async () => ({
        objectsSeen: 3,
        objectsLoaded: 3,
        objectsSkipped: 0,
        rowsLoaded: 300,
        errors: [],
      }),
      [STATE.dbt]: async () => ({
        TaskArn: 'arn:task/1',
        StartedAt: 1,
        StoppedAt: 2,
        Containers: [{ ExitCode: 0 }],
      }),
      [STATE.reconcile]: async () => ({ ok: true, checks: [] }),
      [STATE.publish]: async () => ({ summaryKey: 'runs/x/summary.json' }),
      ...overrides,
    } as Record<string, Handler>;
    const map = Object.fromEntries(
      Object.entries(base).map(([name, fn]) => [
        name,
        async (input: unknown) => {
          (calls[name] ??= []).push(input);
          return fn(input);
        },
      ]),
    );
    return { calls, map };
  }

  async function run(input: unknown, map: Record<string, Handler>) {
    const machine = new StateMachine(local.definition as never, {
      validationOptions: { checkPaths: true, checkArn: false },
    });
    const retryIntervalOverrides = Object.fromEntries(tasks.map((t) => [t, 0]));
    const execution = machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: map as never, retryIntervalOverrides },
      context: { Execution: { Name: 'exec-1', StartTime: now.toISOString() } } as never,
    });
    return execution.result;
  }

  /**
   * Runs the definition on the local executor until it fails, and returns what the publisher makes of the
   * failed execution's status-change event: the run summary request the failure rule leads to.
   */
  async function failedRun(input: unknown, map: Record<string, Handler>) {
    const execution = await executeLocally({
      definition: local.definition,
      input,
      executionName: 'exec-1',
      tasks: map,
      retryIntervalMs: 0,
    });
    expect(execution.status).toBe('FAILED');
    const history = new ConsoleHistory(local.definition as never, 'role');
    for (const e of execution.history) history.push(e);
    const record = {
      executionArn: 'arn:aws:states:local:000000000000:execution:w:exec-1',
      stateMachineArn: 'arn:aws:states:local:000000000000:stateMachine:w',
      name: 'exec-1',
      status: execution.status,
      startDate: execution.startDate,
      stopDate: execution.stopDate,
      input: JSON.stringify(input),
      error: execution.error,
      cause: execution.cause,
      redriveCount: 0,
      events: history.events,
      stateSeconds: {},
    };
    const now = { status: record.status, stopDate: new Date(record.stopDate), input: record.input };
    const newestFirst = [...history.events].reverse() as unknown as HistoryEvent[];
    const request = failedRunRequest(statusChangeEvent(record), { now, newestFirst }, 'bucket');
    if ('skipped' in request) throw new Error(request.skipped);
    return { execution, request };
  }

  it('parses and succeeds, keeping plan, load, dbt and reconcile in the state', async () => {
    // Prepare
    const { calls, map } = handlers();
    // Act
    const output = (await run({ scheduledTime: '2026-11-23T11:05:00Z' }, map)) as Record<string, unknown>;
    // Assess
    expect(output).toMatchObject({
      plan: {
        runId: '20261123T1000Z-exec-1',
        window: { start: '2026-11-23T10:00:00.000Z', end: '2026-11-23T11:00:00.000Z' },
      },
      load: { rowsLoaded: 300 },
      dbt: { taskArn: 'arn:task/1' },
      reconcile: { ok: true },
    });
    expect(calls[STATE.load]).toEqual([
      {
        runId: '20261123T1000Z-exec-1',
        windowStart: '2026-11-23T10:00:00.000Z',
        windowEnd: '2026-11-23T11:00:00.000Z',
        lookbackHours: 2,
        previous: null,
      },
    ]);
    expect(calls[STATE.publish]?.[0]).toMatchObject({
      status: 'SUCCEEDED',
      executionName: 'exec-1',
      run: { reconcile: { ok: true } },
    });
  });

  it('retries a TransientError and then goes on', async () => {
    let attempts = 0;
    const { calls, map } = handlers({
      [STATE.load]: async () => {
        attempts += 1;
        if (attempts === 1) throw new TransientError('the warehouse is warming up');
        return { rowsLoaded: 1 };
      },
    });
    await run({}, map);
    expect(attempts).toBe(2);
    expect(calls[STATE.publish]).toHaveLength(1);
  });

  it("fails in Reconcile on a mismatch; the failed run's summary has its cause, the plan, load and dbt", async () => {
    // Prepare: reconcile fails as the function does on a mismatch: assertReconciled throws ReconciliationError,
    // which surfaces as a Lambda error by its name.
    const mismatch: ReconcileResult = {
      ok: false,
      counts: { landed: 300, quarantined: 0, loaded: 300, modelled: 300 },
      checks: [
        {
          name: 'bronze rows = object records, per object',
          expected: 300,
          actual: 300,
          ok: false,
          detail: '2 of 3 objects differ: bronze/a (100 records, 99 rows); bronze/b (100 records, 101 rows)',
        },
      ],
      gold: { playsPerHour: [], topTracks: [], topArtists: [] },
    };
    const { calls, map } = handlers({
      [STATE.reconcile]: async () => assertReconciled(mismatch),
    });
    // Act
    const { execution, request } = await failedRun({}, map);
    // Assess
    expect(execution.error).toBe('ReconciliationError');
    expect(execution.cause).toContain('bronze/a (100 records, 99 rows); bronze/b (100 records, 101 rows)');
    expect(calls[STATE.publish]).toBeUndefined();
    expect(request).toMatchObject({
      status: 'FAILED',
      runId: expect.stringMatching(/-exec-1$/),
      load: { rowsLoaded: 300 },
      failure: { state: STATE.reconcile, Error: 'ReconciliationError' },
    });
    expect(request.failure?.Cause).toContain('bronze/a (100 records, 99 rows)');
  });

  it('calls LoadBronze again with the previous result until it is complete, then runs dbt on the totals', async () => {
    // Prepare: a loader that needs three calls; each returns the running total
    const partial = (n: number) => ({
      complete: false,
      objectsSeen: n * 500,
      objectsLoaded: n * 500,
      objectsSkipped: 0,
      objectsFailed: 0,
      rowsLoaded: n * 5000,
      errors: [],
      resumeAfter: `bronze/date=2026-11-2${n}/hour=00/`,
      slowestBatchMs: 20_000,
    });
    const final = { ...partial(3), complete: true };
    delete (final as Partial<typeof final>).resumeAfter;
    delete (final as Partial<typeof final>).slowestBatchMs;
    const results = [partial(1), partial(2), final];
    const { calls, map } = handlers({ [STATE.load]: async () => results.shift() });

    // Act
    const output = (await run({ scheduledTime: '2026-11-23T11:05:00Z' }, map)) as Record<string, unknown>;

    // Assess
    const request = {
      runId: '20261123T1000Z-exec-1',
      windowStart: '2026-11-23T10:00:00.000Z',
      windowEnd: '2026-11-23T11:00:00.000Z',
      lookbackHours: 2,
    };
    expect(calls[STATE.load]).toEqual([
      { ...request, previous: null },
      { ...request, previous: partial(1) },
      { ...request, previous: partial(2) },
    ]);
    expect(calls[STATE.dbt]).toHaveLength(1);
    expect(output.load).toEqual(final);
    expect(calls[STATE.reconcile]?.[0]).toMatchObject({ load: final });
    expect((calls[STATE.publish]?.[0] as { run: { load: unknown } }).run.load).toEqual(final);
    expect(output.loadLoop).toMatchObject({ invocation: 3 });
  });

  it('stops a load that never completes after MAX_LOAD_INVOCATIONS calls, with a clear error', async () => {
    // Prepare: a loader that always stops early
    let n = 0;
    const { calls, map } = handlers({
      [STATE.load]: async () => ({
        complete: false,
        objectsSeen: ++n,
        objectsLoaded: n,
        objectsSkipped: 0,
        objectsFailed: 0,
        rowsLoaded: n,
        errors: [],
        resumeAfter: 'bronze/date=2026-11-23/hour=10/',
      }),
    });

    // Act
    const { execution, request } = await failedRun({ scheduledTime: '2026-11-23T11:05:00Z' }, map);

    // Assess
    expect(calls[STATE.load]).toHaveLength(MAX_LOAD_INVOCATIONS);
    expect(calls[STATE.dbt]).toBeUndefined();
    expect(calls[STATE.publish]).toBeUndefined();
    expect(execution.error).toBe(LOAD_INCOMPLETE_ERROR);
    expect(execution.cause).toContain(
      `LoadBronze did not finish loading the window in ${MAX_LOAD_INVOCATIONS} invocations`,
    );
    // The run summary names the Fail state, the window and the counts the load got to.
    expect(request.window).toEqual({ start: '2026-11-23T10:00:00.000Z', end: '2026-11-23T11:00:00.000Z' });
    expect(request.failure).toMatchObject({ state: STATE.loadIncomplete, Error: LOAD_INCOMPLETE_ERROR });
    expect(request.load).toMatchObject({ complete: false, objectsLoaded: MAX_LOAD_INVOCATIONS });
  });

  it('fails the run on a bad backfill window before loading anything', async () => {
    const { calls, map } = handlers();
    const { request } = await failedRun(
      { window: { start: '2026-11-23T10:30:00Z', end: '2026-11-23T11:00:00Z' } },
      map,
    );
    expect(request.failure).toMatchObject({ state: STATE.plan, Error: 'ValidationError' });
    expect(request.runId).toBe('exec-1');
    expect(calls[STATE.load]).toBeUndefined();
  });
});

function def(name: string): AslState {
  const state = (local.definition as unknown as Asl).States[name];
  if (!state) throw new Error(`no state ${name}`);
  return state;
}
