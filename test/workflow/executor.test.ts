import { describe, expect, it } from 'vitest';
import { executeLocally, type LocalTask } from '../../localstack/workflow/executor.ts';
import { TransientError } from '../../lambdas/core/errors.ts';

// A definition in the shape the CDK emits for LambdaInvoke and EcsRunTask(.sync) tasks.
const definition = {
  StartAt: 'Plan',
  States: {
    Plan: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: 'arn:aws:lambda:local:000000000000:function:Plan', 'Payload.$': '$' },
      ResultSelector: { 'window.$': '$.Payload.window' },
      ResultPath: '$.plan',
      Retry: [{ ErrorEquals: ['TransientError'], IntervalSeconds: 30, MaxAttempts: 2, BackoffRate: 2 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'RunFailed' }],
      Next: 'Build',
    },
    Build: {
      Type: 'Task',
      Resource: 'arn:aws:states:::ecs:runTask.sync',
      Parameters: {
        Cluster: 'c',
        Overrides: {
          ContainerOverrides: [{ Name: 'dbt', Environment: [{ Name: 'W', 'Value.$': '$.plan.window' }] }],
        },
      },
      ResultPath: null,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'RunFailed' }],
      End: true,
    },
    RunFailed: { Type: 'Fail', ErrorPath: '$.failure.Error', CausePath: '$.failure.Cause' },
  },
};

function tasks(plan: LocalTask, build: LocalTask = async () => ({ Containers: [{ ExitCode: 0 }] })) {
  return { Plan: plan, Build: build };
}

describe('executeLocally', () => {
  it('passes the Lambda payload in and the invoke response out, and records the history', async () => {
    // Prepare
    let seenPayload: unknown;
    let seenRequest: unknown;
    // Act
    const run = await executeLocally({
      definition,
      input: { hour: '2026-01-01T00' },
      executionName: 'e1',
      tasks: tasks(
        async (p) => {
          seenPayload = p;
          return { window: 'W1' };
        },
        async (req) => {
          seenRequest = req;
          return {};
        },
      ),
    });
    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(seenPayload).toEqual({ hour: '2026-01-01T00' });
    expect(seenRequest).toMatchObject({
      Overrides: { ContainerOverrides: [{ Environment: [{ Name: 'W', Value: 'W1' }] }] },
    });
    expect(run.output).toEqual({ hour: '2026-01-01T00', plan: { window: 'W1' } });
    expect(run.history.map((h) => h.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskStateExited',
      'TaskStateEntered',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(Object.keys(run.stateSeconds).sort()).toEqual(['Build', 'Plan']);
  });

  it('retries a TransientError by its Lambda error type, then succeeds', async () => {
    // Prepare
    let calls = 0;
    // Act
    const run = await executeLocally({
      definition,
      input: {},
      executionName: 'e2',
      retryIntervalMs: 1,
      tasks: tasks(async () => {
        calls += 1;
        if (calls === 1) throw new TransientError('broker busy');
        return { window: 'W' };
      }),
    });
    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(calls).toBe(2);
    expect(run.history.some((h) => h.type === 'TaskRetried')).toBe(true);
  });

  it('ends in the Fail state with the error and the Lambda cause when a task keeps failing', async () => {
    // Act
    const run = await executeLocally({
      definition,
      input: {},
      executionName: 'e3',
      retryIntervalMs: 1,
      tasks: tasks(async () => {
        throw new RangeError('window end is before its start');
      }),
    });
    // Assess
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('RangeError');
    expect(JSON.parse(run.cause ?? '{}')).toEqual({
      errorType: 'RangeError',
      errorMessage: 'window end is before its start',
    });
    expect(run.history.map((h) => h.type)).toContain('TaskCaught');
  });

  it('refuses a definition with a Task that has no local handler', async () => {
    await expect(
      executeLocally({ definition, input: {}, executionName: 'e4', tasks: { Plan: async () => ({}) } }),
    ).rejects.toThrow(/"Build" has no local handler/);
  });
});
