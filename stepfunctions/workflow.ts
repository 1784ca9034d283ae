/**
 * The hourly workflow, built once in TypeScript: the pipeline stack deploys it, and the local runner
 * executes the same synthesized definition (localstack/workflow/definition.ts), mapping each Task state
 * by name to the same handler code.
 *
 *   PlanWindow -> StartLoad -> LoadBronze -> LoadComplete? -> RunDbt -> Reconcile -> PublishSummary -> Succeeded
 *                                 ^                 | not complete
 *                                 +-- ContinueLoad -+ (at most MAX_LOAD_INVOCATIONS calls, then the Fail state LoadIncomplete)
 *   a task error (after its retries) fails the execution in that task's state
 *
 * No state catches an error. Step Functions' RedriveExecution "continues the failed execution from the
 * unsuccessful step" (API reference, RedriveExecution); with a Catch leading to a Fail state, the unsuccessful
 * step would be that Fail state, and a redrive would run nothing but it again. The failed run's summary and
 * alert are written outside the state machine instead: an EventBridge rule on the execution's status change
 * (FAILED, TIMED_OUT, ABORTED) invokes the publisher (lib/constructs/run-failure-rule.ts).
 *
 * A load stops before its Lambda's timeout and answers `complete: false` with its running total; the
 * loop calls it again with that result as `previous` until it is complete, so `$.load` is the window's
 * total before RunDbt, whatever the number of calls.
 *
 * State after each step: { ...input, plan, loadLoop, load, dbt, reconcile }. `loadLoop` is { invocation, previous }: the number of the LoadBronze call about to run (or
 * last run) and the result it continues (null for the first).
 */
import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { RUNS_PREFIX } from '../lambdas/core/bronze.ts';
import type { RunSummary } from '../lambdas/core/run-summary.ts';

/** State names: the local runner maps Task states to local handlers by these names; keep them stable. */
export const STATE = {
  plan: 'PlanWindow',
  startLoad: 'StartLoad',
  load: 'LoadBronze',
  loadComplete: 'LoadComplete',
  continueLoad: 'ContinueLoad',
  loadIncomplete: 'LoadIncomplete',
  dbt: 'RunDbt',
  reconcile: 'Reconcile',
  publish: 'PublishSummary',
  succeeded: 'Succeeded',
} as const;

/** The error name of TransientError (lambdas/core/errors.ts): Lambda reports a thrown error by its name. */
export const TRANSIENT_ERROR = 'TransientError';

/**
 * The most LoadBronze calls one run makes. Every call makes progress and a long load uses each Lambda's
 * 15 minutes, so this allows about 45 hours of loading: a 92-day backfill at production density is
 * estimated at 60 to 125 calls (docs/warehouse.md, "Long windows"). A loader that keeps answering `complete: false`
 * fails the run in the Fail state LoadIncomplete after it.
 */
export const MAX_LOAD_INVOCATIONS = 200;

/** How long one dbt task may run, and how often a failed one is run again. */
export const DBT_TASK_TIMEOUT = Duration.hours(1);
export const DBT_RETRIES = 2;

/**
 * The longest a run can take when every step uses all the time it is given: MAX_LOAD_INVOCATIONS loader calls
 * of `loaderTimeout` each, the dbt task and its retries, and an hour for planning, reconciling, publishing and
 * retry pauses. The state machine's timeout is this, so a backfill of the longest allowed window is ended by
 * its own bounds (LoadIncomplete, a dbt timeout) with their cause, never cut short by the execution timeout.
 */
export function longestRun(loaderTimeout: Duration): Duration {
  return Duration.minutes(
    MAX_LOAD_INVOCATIONS * loaderTimeout.toMinutes() + (1 + DBT_RETRIES) * DBT_TASK_TIMEOUT.toMinutes() + 60,
  );
}

/** The error of a run whose load did not complete in MAX_LOAD_INVOCATIONS calls. */
export const LOAD_INCOMPLETE_ERROR = 'LoadIncomplete';

export interface DbtTask {
  readonly cluster: ecs.ICluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroups: ec2.ISecurityGroup[];
}

export interface WorkflowProps {
  readonly planner: lambda.IFunction;
  readonly loader: lambda.IFunction;
  readonly reconcile: lambda.IFunction;
  readonly publisher: lambda.IFunction;
  readonly dbt: DbtTask;
}

/** The workflow's definition, from the task constructs passed in (so the stack and the tests share it). */
export function buildWorkflow(parent: Construct, props: WorkflowProps): sfn.IChainable {
  // Its own scope, so state names cannot clash with the functions they invoke (Reconcile).
  const scope = new Construct(parent, 'WorkflowStates');
  /** A Lambda task whose response goes to `resultPath`, retried on transient errors. */
  const invoke = (
    id: string,
    lambdaFunction: lambda.IFunction,
    payload: sfn.TaskInput,
    resultPath: string,
  ): tasks.LambdaInvoke =>
    withTransientRetry(
      new tasks.LambdaInvoke(scope, id, { lambdaFunction, payloadResponseOnly: true, payload, resultPath }),
    );

  const plan = invoke(
    STATE.plan,
    props.planner,
    sfn.TaskInput.fromObject({
      input: sfn.JsonPath.entirePayload,
      executionName: sfn.JsonPath.executionName,
    }),
    '$.plan',
  );

  // The load loop. The payload fields are LoadRequest's (lambdas/loader/load.ts); `previous` is null on
  // the first call and the last result on every further one.
  const startLoad = new sfn.Pass(scope, STATE.startLoad, {
    result: sfn.Result.fromObject({ invocation: 1, previous: null }),
    resultPath: '$.loadLoop',
  });
  const load = invoke(
    STATE.load,
    props.loader,
    sfn.TaskInput.fromObject({
      runId: sfn.JsonPath.stringAt('$.plan.runId'),
      windowStart: sfn.JsonPath.stringAt('$.plan.window.start'),
      windowEnd: sfn.JsonPath.stringAt('$.plan.window.end'),
      lookbackHours: sfn.JsonPath.numberAt('$.plan.lookbackHours'),
      previous: sfn.JsonPath.objectAt('$.loadLoop.previous'),
    }),
    '$.load',
  );
  const continueLoad = new sfn.Pass(scope, STATE.continueLoad, {
    parameters: {
      invocation: sfn.JsonPath.mathAdd(sfn.JsonPath.numberAt('$.loadLoop.invocation'), 1),
      previous: sfn.JsonPath.objectAt('$.load'),
    },
    resultPath: '$.loadLoop',
  });
  // The cause is a constant: the window and the load's totals are in the input of this state, which is what
  // the failed run's summary is made of (lambdas/publisher/status-change.ts).
  const loadIncomplete = new sfn.Fail(scope, STATE.loadIncomplete, {
    error: LOAD_INCOMPLETE_ERROR,
    cause:
      `LoadBronze did not finish loading the window in ${MAX_LOAD_INVOCATIONS} invocations, the most one run makes. ` +
      'What it loaded stays loaded, and loading is idempotent: run the window again, or as shorter backfills.',
  });
  // A result without `complete` (a loader of an earlier version) counts as complete.
  const notComplete = [
    sfn.Condition.isPresent('$.load.complete'),
    sfn.Condition.booleanEquals('$.load.complete', false),
  ];

  const dbt = new tasks.EcsRunTask(scope, STATE.dbt, {
    integrationPattern: sfn.IntegrationPattern.RUN_JOB,
    cluster: props.dbt.cluster,
    taskDefinition: props.dbt.taskDefinition,
    launchTarget: new tasks.EcsFargateLaunchTarget(),
    subnets: props.dbt.subnets,
    securityGroups: props.dbt.securityGroups,
    assignPublicIp: false,
    containerOverrides: [
      {
        containerDefinition: props.dbt.container,
        environment: [
          { name: 'RUN_ID', value: sfn.JsonPath.stringAt('$.plan.runId') },
          { name: 'WINDOW_START', value: sfn.JsonPath.stringAt('$.plan.window.start') },
          { name: 'WINDOW_END', value: sfn.JsonPath.stringAt('$.plan.window.end') },
          // The dbt image's entrypoint uploads its artifacts to s3://ARTIFACTS_BUCKET/<this prefix>/.
          {
            name: 'ARTIFACTS_PREFIX',
            value: sfn.JsonPath.format(`${RUNS_PREFIX}{}/dbt`, sfn.JsonPath.stringAt('$.plan.runId')),
          },
        ],
      },
    ],
    // Keep what later steps and the summary need, not the whole DescribeTasks answer.
    resultSelector: {
      taskArn: sfn.JsonPath.stringAt('$.TaskArn'),
      startedAt: sfn.JsonPath.stringAt('$.StartedAt'),
      stoppedAt: sfn.JsonPath.stringAt('$.StoppedAt'),
    },
    resultPath: '$.dbt',
    taskTimeout: sfn.Timeout.duration(DBT_TASK_TIMEOUT),
  });
  // A dbt build is idempotent over a window, so a failed task is simply run again.
  dbt.addRetry({
    errors: [sfn.Errors.TASKS_FAILED],
    interval: Duration.seconds(30),
    maxAttempts: DBT_RETRIES,
    backoffRate: 2,
  });

  const reconcile = invoke(
    STATE.reconcile,
    props.reconcile,
    sfn.TaskInput.fromObject({
      runId: sfn.JsonPath.stringAt('$.plan.runId'),
      window: sfn.JsonPath.objectAt('$.plan.window'),
      load: sfn.JsonPath.objectAt('$.load'),
      // Objects written before the run started must have been loaded; later ones wait for the next run.
      runStartedAt: sfn.JsonPath.executionStartTime,
    }),
    '$.reconcile',
  );

  const publish = invoke(STATE.publish, props.publisher, publisherPayload(), '$.summary');

  dbt.next(reconcile).next(publish).next(new sfn.Succeed(scope, STATE.succeeded));
  continueLoad.next(load);
  const loadComplete = new sfn.Choice(scope, STATE.loadComplete)
    .when(
      sfn.Condition.and(
        ...notComplete,
        sfn.Condition.numberGreaterThanEquals('$.loadLoop.invocation', MAX_LOAD_INVOCATIONS),
      ),
      loadIncomplete,
    )
    .when(sfn.Condition.and(...notComplete), continueLoad)
    .otherwise(dbt);
  return plan.next(startLoad).next(load).next(loadComplete);
}

/**
 * What PublishSummary sends the publisher: its PublisherEvent (lambdas/publisher/publish.ts), with the whole
 * workflow state as `run`. test/stepfunctions/workflow.test.ts feeds what the state sends to the publisher's
 * publishRequestFromEvent. A failed run's summary comes from the execution's status-change event instead.
 */
function publisherPayload(): sfn.TaskInput {
  return sfn.TaskInput.fromObject({
    status: 'SUCCEEDED' satisfies RunSummary['status'],
    executionName: sfn.JsonPath.executionName,
    startedAt: sfn.JsonPath.executionStartTime,
    run: sfn.JsonPath.entirePayload,
  });
}

/** Lambda service errors are retried by CDK's default; errors our code marks as transient are retried too. */
function withTransientRetry(task: tasks.LambdaInvoke): tasks.LambdaInvoke {
  task.addRetry({ errors: [TRANSIENT_ERROR], interval: Duration.seconds(5), maxAttempts: 3, backoffRate: 2 });
  return task;
}
