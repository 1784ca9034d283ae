/**
 * The local Step Functions and Scheduler endpoints over a small workflow in the shape the CDK emits for the
 * pipeline (a LambdaInvoke planner, the dbt EcsRunTask .sync task, a LambdaInvoke publisher), whose tasks
 * are local functions the test controls.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { ExecutionStore } from '../../localstack/workflow/execution-store.ts';
import { executeLocally, type LocalTask } from '../../localstack/workflow/executor.ts';
import {
  startSfnEndpoint,
  stateMachineArnOf,
  type LocalEndpoint,
  type SfnEndpointOptions,
} from '../../localstack/workflow/sfn-endpoint.ts';

export const definition = {
  StartAt: 'PlanWindow',
  States: {
    PlanWindow: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: 'arn:aws:lambda:local:000000000000:function:Planner', 'Payload.$': '$' },
      ResultSelector: { 'runId.$': '$.Payload.runId' },
      ResultPath: '$.plan',
      Next: 'RunDbt',
    },
    RunDbt: {
      Type: 'Task',
      Resource: 'arn:aws:states:::ecs:runTask.sync',
      Parameters: { Cluster: 'c', TaskDefinition: 'dbt' },
      ResultPath: null,
      Next: 'PublishSummary',
    },
    PublishSummary: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: 'arn:aws:lambda:local:000000000000:function:Publisher', 'Payload.$': '$' },
      ResultPath: null,
      Next: 'RunSucceeded',
    },
    RunSucceeded: { Type: 'Succeed' },
  },
};

export const STATE_MACHINE = 'mds-test-workflow';
export const STATE_MACHINE_ARN = stateMachineArnOf(STATE_MACHINE);

export interface TestWorkflow {
  readonly endpoint: LocalEndpoint;
  readonly sfn: SFNClient;
  readonly store: ExecutionStore;
  readonly calls: Record<string, number>;
  /** dbt fails while this is positive (each failure counts it down). */
  dbtFailures: number;
  /** Executions running now, and the most at once. */
  readonly concurrency: { now: number; max: number };
  /** How long each task takes (ms). */
  taskMs: number;
}

export async function startTestWorkflow(
  options: Partial<Pick<SfnEndpointOptions, 'now'>> & { readonly dir?: string } = {},
): Promise<TestWorkflow> {
  const store = new ExecutionStore(options.dir);
  const w = {
    store,
    calls: { PlanWindow: 0, RunDbt: 0, PublishSummary: 0 } as Record<string, number>,
    dbtFailures: 0,
    concurrency: { now: 0, max: 0 },
    taskMs: 5,
  } as TestWorkflow;
  const pause = () => new Promise((r) => setTimeout(r, w.taskMs));
  const tasks: Record<string, LocalTask> = {
    PlanWindow: async () => {
      w.calls.PlanWindow = (w.calls.PlanWindow ?? 0) + 1;
      await pause();
      return { runId: `run-${w.calls.PlanWindow}` };
    },
    RunDbt: async () => {
      w.calls.RunDbt = (w.calls.RunDbt ?? 0) + 1;
      await pause();
      if (w.dbtFailures > 0) {
        w.dbtFailures -= 1;
        const err = new Error('dbt build failed: model.spotify.fct_plays (error: division by zero)');
        err.name = 'States.TaskFailed';
        throw err;
      }
      return { LastStatus: 'STOPPED' };
    },
    PublishSummary: async () => {
      w.calls.PublishSummary = (w.calls.PublishSummary ?? 0) + 1;
      await pause();
      return {};
    },
  };
  const endpoint = await startSfnEndpoint({
    stateMachineName: STATE_MACHINE,
    definition: async () => definition,
    store,
    now: options.now,
    runner: async (req) => {
      w.concurrency.now += 1;
      w.concurrency.max = Math.max(w.concurrency.max, w.concurrency.now);
      try {
        const execution = await executeLocally({
          definition,
          input: req.input,
          executionName: req.executionName,
          tasks,
          redrive: req.redrive,
          signal: req.signal,
          onEvent: req.onEvent,
        });
        return { execution, runId: `run-${req.executionName}` };
      } finally {
        w.concurrency.now -= 1;
      }
    },
  });
  const sfn = new SFNClient(localClientConfig(endpoint.url));
  return Object.assign(w, { endpoint, sfn });
}

export function localClientConfig(endpoint: string) {
  return {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  };
}

export function schedulerClient(endpoint: string): SchedulerClient {
  return new SchedulerClient(localClientConfig(endpoint));
}
