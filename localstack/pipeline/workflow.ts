/**
 * One run of the hourly workflow on the local stand-ins: the state machine of the synthesized cloud assembly,
 * executed in-process. Each Lambda task invokes the function it names in the definition (its FunctionName)
 * in the local Lambda runtime, from the asset `cdk deploy` uploads; RunDbt (ECS RunTask .sync) runs the
 * embedded dbt runner in the place of the `dbt` binary, with the container environment of the task
 * definition plus the state's overrides.
 *
 * Every run is an execution of the local Step Functions endpoint (runWorkflowLocally: a StartExecution), so
 * `mds runs list` and the runs page show it and a failed one is redriven as in AWS; runAttempt is one attempt
 * of it (the first, or a redrive) on the executor. When an execution stops, the summary and report the
 * Publisher function wrote to S3 are kept under runs/<runId>/ with the execution history as the console
 * exports it (history.json).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { renderRunReport } from '../../lambdas/core/report.ts';
import { RUNS_PREFIX } from '../../lambdas/core/bronze.ts';
import { getObjectBytes, putObjectBytes } from '../../lambdas/core/s3.ts';
import type { RunSummary, RunWindow } from '../../lambdas/core/run-summary.ts';
import { MdsError } from '../../lambdas/core/errors.ts';
import { LocalResolver, workflowFromTemplates } from '../workflow/definition.ts';
import { freshnessFailures, runDbt, runSourceFreshness } from '../dbt/index.ts';
import type { CloudAssembly } from '../lambda/assembly.ts';
import { stackName } from '../../lib/app.ts';
import type { EnvironmentName } from '../../lib/config/environments.ts';
import { PROJECT_ROOT } from '../paths.ts';
import { runDir } from '../state.ts';
import {
  executeLocally,
  type HistoryEvent,
  type LocalExecution,
  type LocalExecutionOptions,
  type LocalTask,
} from '../workflow/executor.ts';
import type { LocalServices } from './services.ts';

export interface LocalRunOptions {
  /** The window to run; omitted = the hour before now, as the hourly schedule does. */
  readonly window?: RunWindow;
  readonly executionName?: string;
  /** Prints state transitions as they happen. */
  readonly onEvent?: (event: HistoryEvent) => void;
  /** dbt progress lines. */
  readonly dbtLog?: (line: string) => void;
  /** Pause between retries (ms); a local speed-up over the definition's intervals. @default 1000 */
  readonly retryIntervalMs?: number;
  /** Test hook: makes the dbt task fail this many times before it runs (Infinity = always). */
  readonly injectDbtFailures?: number;
  /** A RedriveExecution: where the run continues (see localstack/workflow/executor.ts). */
  readonly redrive?: LocalExecutionOptions['redrive'];
}

export interface LocalRun {
  /** The execution's last attempt, as the executor ran it. */
  readonly execution: LocalExecution;
  readonly summary: RunSummary | undefined;
  readonly runDir: string | undefined;
}

/** One attempt of an execution. */
export interface LocalAttempt {
  readonly execution: LocalExecution;
}

/**
 * Runs the workflow once as an execution of the local Step Functions endpoint over these services (a
 * StartExecution with the official client), and waits until it stopped and its summary is kept.
 */
export async function runWorkflowLocally(
  services: LocalServices,
  options: LocalRunOptions = {},
): Promise<LocalRun> {
  const { startLocalExecution } = await import('../workflow/local-workflow.ts');
  return startLocalExecution(services, options);
}

/** What the local dbt "container" changes in the task definition's environment: the target is the DuckDB file. */
export const DBT_LOCAL_OVERRIDES = { DBT_TARGET: 'duckdb' } as const;

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';

interface AslTask {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: Record<string, unknown>;
}

/** The state machine of the assembly's pipeline stack, resolved for local execution. */
export function localDefinition(assembly: CloudAssembly, bucket: string): Record<string, unknown> {
  return workflowFromTemplates(
    assembly.templates,
    stackName(assembly.envName as EnvironmentName, 'Pipeline'),
    bucket,
  ).definition;
}

export async function runAttempt(
  services: LocalServices,
  options: LocalRunOptions = {},
): Promise<LocalAttempt> {
  const { s3, bucket, assembly } = services;
  const executionName = options.executionName ?? `local-${randomUUID()}`;
  let dbtFailuresLeft = options.injectDbtFailures ?? 0;
  const definition = localDefinition(assembly, bucket);
  const states = definition.States as Record<string, AslTask>;

  const tasks: Record<string, LocalTask> = {};
  for (const [name, state] of Object.entries(states)) {
    if (state.Type !== 'Task') continue;
    // A Lambda task names its function in Parameters.FunctionName (lambda:invoke) or, with
    // payloadResponseOnly, as its Resource.
    const arn = state.Resource?.startsWith(LAMBDA_INVOKE)
      ? String(state.Parameters?.FunctionName ?? '')
      : state.Resource?.startsWith('arn:aws:lambda:')
        ? state.Resource
        : undefined;
    if (arn === undefined) continue;
    const logicalId = /:function:([^:]+)/.exec(arn)?.[1] ?? '';
    const id = services.lambda.byLogicalId(logicalId);
    if (!id) {
      throw new MdsError(
        `the workflow's state ${name} invokes ${arn}, which the local Lambda runtime does not run`,
      );
    }
    tasks[name] = (payload) => services.lambda.invoke(id, payload);
  }
  tasks.RunDbt = async (request) => {
    const env = dbtContainerEnvironment(assembly, bucket, request);
    const taskStartedAt = new Date().toISOString();
    if (dbtFailuresLeft > 0) {
      dbtFailuresLeft -= 1;
      throw ecsTaskFailed('dbt exited with code 1 (failure injected for a test)');
    }
    const prefix = (env.ARTIFACTS_PREFIX ?? '').replace(/^\/+|\/+$/g, '');
    const artifactsBucket = env.ARTIFACTS_BUCKET;
    if (!prefix || !artifactsBucket) {
      throw ecsTaskFailed('the dbt container has no ARTIFACTS_BUCKET or ARTIFACTS_PREFIX in its environment');
    }
    const targetDir = path.join(services.paths.root, 'dbt-target');
    const projectDir = path.join(PROJECT_ROOT, 'dbt');
    // As the image's entrypoint does: the artifacts dbt wrote to s3://ARTIFACTS_BUCKET/ARTIFACTS_PREFIX/.
    const upload = async (names: readonly string[]): Promise<void> => {
      for (const name of names) {
        await putObjectBytes(
          s3,
          artifactsBucket,
          `${prefix}/${name}`,
          await readFile(path.join(targetDir, name)),
          {
            contentType: 'application/json',
          },
        );
      }
    };
    // `dbt source freshness`, then `dbt build` only if no source is past its error_after (dbt/entrypoint.py).
    const freshness = await services.warehouse.dbt((connection) =>
      runSourceFreshness({ projectDir, connection, targetDir, log: options.dbtLog }),
    );
    if (!freshness.success) {
      await upload(['manifest.json', 'sources.json']);
      throw ecsTaskFailed(
        `dbt source freshness failed, dbt build did not run: ${freshnessFailures(freshness.results).join('; ')}`,
      );
    }
    const result = await services.warehouse.dbt((connection, connect) =>
      runDbt({ projectDir, connection, connect, command: 'build', targetDir, log: options.dbtLog }),
    );
    await upload(['manifest.json', 'run_results.json', 'sources.json']);
    if (!result.success) {
      const failed = result.runResults.results.filter((r) => r.status === 'error' || r.status === 'fail');
      throw ecsTaskFailed(
        `dbt build failed: ${failed.map((r) => `${r.unique_id} (${r.status}${r.message ? `: ${r.message}` : ''})`).join('; ')}`,
      );
    }
    return {
      TaskArn: `arn:aws:ecs:local:000000000000:task/local/${randomUUID()}`,
      StartedAt: taskStartedAt,
      StoppedAt: new Date().toISOString(),
      LastStatus: 'STOPPED',
      Containers: [{ Name: 'dbt', ExitCode: 0 }],
    };
  };

  const execution = await executeLocally({
    definition,
    input: options.window ? { window: options.window } : {},
    executionName,
    retryIntervalMs: options.retryIntervalMs ?? 1000,
    redrive: options.redrive,
    onEvent: (e) => options.onEvent?.(e),
    tasks,
  });

  return { execution };
}

/**
 * The local copy of a run's summary: the one the Publisher function wrote to S3 (as in AWS), with the step
 * timings of the execution, which the console shows and a function cannot see, its report, and the history.
 */
export async function keepRunLocally(
  services: LocalServices,
  runId: string,
  stateSeconds: Record<string, number>,
  history: readonly unknown[],
): Promise<{ summary: RunSummary; runDir: string } | undefined> {
  const raw = await getObjectBytes(services.s3, services.bucket, `${RUNS_PREFIX}${runId}/summary.json`).catch(
    () => undefined,
  );
  if (!raw) return undefined;
  const published = JSON.parse(Buffer.from(raw).toString('utf8')) as RunSummary;
  const summary = { ...published, stepSeconds: roundedSeconds(stateSeconds) };
  const dir = runDir(services.paths.root, runId);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'summary.json'), JSON.stringify(summary, null, 2));
  await writeFile(path.join(dir, 'report.html'), renderRunReport(summary));
  await writeFile(path.join(dir, 'history.json'), JSON.stringify({ events: history }, null, 2));
  return { summary, runDir: dir };
}

function roundedSeconds(seconds: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(seconds).map(([k, v]) => [k, Math.round(v * 1000) / 1000]));
}

/**
 * The dbt container's environment: the task definition's (every reference resolved to the local stand-ins),
 * the RunTask ContainerOverrides of the state, and DBT_LOCAL_OVERRIDES.
 */
export function dbtContainerEnvironment(
  assembly: CloudAssembly,
  bucket: string,
  request: unknown,
): Record<string, string> {
  const r = request as {
    TaskDefinition?: string;
    Overrides?: { ContainerOverrides?: { Name?: string; Environment?: { Name: string; Value: string }[] }[] };
  };
  const overrides = r.Overrides?.ContainerOverrides?.[0];
  if (!overrides?.Environment) throw new MdsError('the RunDbt task request has no container environment');
  // The state names the task definition by its ARN, whose last part is the family (or a logical id).
  const name = /task-definition\/([^:]+)/.exec(r.TaskDefinition ?? '')?.[1] ?? r.TaskDefinition;
  const stack = stackName(assembly.envName as EnvironmentName, 'Pipeline');
  const taskDefinition = Object.entries(assembly.templates.get(stack)?.Resources ?? {}).find(
    ([id, res]) =>
      res.Type === 'AWS::ECS::TaskDefinition' && (id === name || res.Properties?.Family === name),
  )?.[1];
  if (!taskDefinition)
    throw new MdsError(`the RunDbt task names ${r.TaskDefinition}, which ${stack} does not define`);
  const containers = (taskDefinition.Properties?.ContainerDefinitions ?? []) as {
    Name: string;
    Environment?: { Name: string; Value: unknown }[];
  }[];
  const container = containers.find((c) => c.Name === (overrides.Name ?? 'dbt')) ?? containers[0];
  const resolver = new LocalResolver(assembly.templates, bucket);
  const env: Record<string, string> = {};
  for (const e of container?.Environment ?? []) env[e.Name] = String(resolver.resolve(e.Value, stack));
  for (const e of overrides.Environment) env[e.Name] = e.Value;
  return { ...env, ...DBT_LOCAL_OVERRIDES };
}

/** How a failed ECS task surfaces in Step Functions: States.TaskFailed with the task's reason. */
function ecsTaskFailed(reason: string): Error {
  const err = new Error(JSON.stringify({ StopCode: 'EssentialContainerExited', StoppedReason: reason }));
  err.name = 'States.TaskFailed';
  return err;
}
