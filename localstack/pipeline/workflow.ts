/**
 * One run of the hourly workflow on the local stand-ins: the state machine the CDK app synthesizes, executed
 * in-process, each Task state mapped to the handler code that runs in AWS:
 *   PlanWindow -> planner, LoadBronze -> loader, RunDbt (ECS RunTask .sync) -> the embedded dbt runner,
 *   Reconcile -> reconcile, PublishSummary / RecordFailure -> publisher.
 * The execution history is saved like the console's (runs/<runId>/history.json) next to the summary and report.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { planWindow } from '../../lambdas/planner/plan.ts';
import { loadBronze, type LoadRequest } from '../../lambdas/loader/load.ts';
import { assertReconciled } from '../../lambdas/reconcile/handler.ts';
import { reconcileWindow } from '../../lambdas/reconcile/reconcile.ts';
import {
  buildSummary,
  publishRequestFromEvent,
  publishSummary,
  type PublisherEvent,
} from '../../lambdas/publisher/publish.ts';
import { renderRunReport } from '../../dashboard/report.ts';
import { putObjectBytes } from '../../lambdas/shared/s3.ts';
import type { RunSummary, RunWindow } from '../../lambdas/shared/run-summary.ts';
import { MdsError } from '../../lambdas/shared/errors.ts';
import { runDbt } from '../dbt/index.ts';
import { PROJECT_ROOT } from '../paths.ts';
import { runDir } from '../state.ts';
import { executeLocally, type HistoryEvent, type LocalExecution } from '../workflow/executor.ts';
import { synthesizeLocalWorkflow } from '../../stepfunctions/local.ts';
import type { LocalServices } from './services.ts';

export interface LocalRunOptions {
  /** The window to run; omitted = the hour before now, as the hourly schedule does. */
  readonly window?: RunWindow;
  readonly executionName?: string;
  /** Prints state transitions as they happen. */
  readonly onEvent?: (event: HistoryEvent) => void;
  /** dbt progress lines. */
  readonly dbtLog?: (line: string) => void;
  /** Pause between retries (ms); locally shorter than the deployed intervals. @default 1000 */
  readonly retryIntervalMs?: number;
  /** Test hook: makes the dbt task fail this many times before it runs (Infinity = always). */
  readonly injectDbtFailures?: number;
}

export interface LocalRun {
  readonly execution: LocalExecution;
  readonly summary: RunSummary | undefined;
  readonly runDir: string | undefined;
}

const DBT_PROJECT = path.join(PROJECT_ROOT, 'dbt');
const MAX_WINDOW_DAYS = 31;
const LOOKBACK_HOURS = 48;

let definition: Record<string, unknown> | undefined;

/** The synthesized state machine, resolved for local execution (synthesized once per process). */
export function localDefinition(): Record<string, unknown> {
  definition ??= synthesizeLocalWorkflow().definition;
  return definition;
}

export async function runWorkflowLocally(
  services: LocalServices,
  options: LocalRunOptions = {},
): Promise<LocalRun> {
  const { s3, bucket, warehouse } = services;
  const executionName = options.executionName ?? `local-${randomUUID()}`;
  const startedAt = new Date().toISOString();
  const timings: Record<string, number> = {};
  let dbtFailuresLeft = options.injectDbtFailures ?? 0;
  let published: RunSummary | undefined;

  const publish = async (event: unknown): Promise<unknown> => {
    const request = {
      ...publishRequestFromEvent(event as PublisherEvent, bucket),
      stepSeconds: { ...timings },
    };
    published = await buildSummary({ s3, bucket }, request);
    return publishSummary({ s3, bucket }, published);
  };

  const execution = await executeLocally({
    definition: localDefinition(),
    input: options.window ? { window: options.window } : {},
    executionName,
    retryIntervalMs: options.retryIntervalMs ?? 1000,
    onEvent: (e) => {
      options.onEvent?.(e);
    },
    tasks: {
      PlanWindow: async (payload) =>
        planWindow(payload as Parameters<typeof planWindow>[0], new Date(), {
          maxWindowDays: MAX_WINDOW_DAYS,
          lookbackHours: LOOKBACK_HOURS,
        }),
      LoadBronze: async (payload) =>
        timed(timings, 'LoadBronze', () => loadBronze({ s3, bucket, warehouse }, payload as LoadRequest)),
      RunDbt: async (request) =>
        timed(timings, 'RunDbt', async () => {
          const env = containerEnvironment(request);
          const taskStartedAt = new Date().toISOString();
          if (dbtFailuresLeft > 0) {
            dbtFailuresLeft -= 1;
            throw ecsTaskFailed('dbt exited with code 1 (failure injected for a test)');
          }
          const result = await runDbt({
            projectDir: DBT_PROJECT,
            connection: warehouse.connection,
            command: 'build',
            targetDir: path.join(services.paths.root, 'dbt-target'),
            log: options.dbtLog,
          });
          // As the Fargate entrypoint does: run_results.json to s3://<bucket>/<ARTIFACTS_PREFIX>/, next to the run summary.
          const prefix = (env.ARTIFACTS_PREFIX ?? '').replace(/^\/+|\/+$/g, '');
          if (!prefix) throw new MdsError('the RunDbt task request sets no ARTIFACTS_PREFIX');
          await putObjectBytes(s3, bucket, `${prefix}/run_results.json`, JSON.stringify(result.runResults), {
            contentType: 'application/json',
          });
          if (!result.success) {
            const failed = result.runResults.results.filter(
              (r) => r.status === 'error' || r.status === 'fail',
            );
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
        }),
      Reconcile: async (payload) =>
        timed(timings, 'Reconcile', async () => {
          const p = payload as { runId: string; window: RunWindow; runStartedAt?: string };
          return assertReconciled(
            await reconcileWindow(
              { s3, bucket, warehouse },
              { ...p, runStartedAt: p.runStartedAt ?? startedAt },
            ),
          );
        }),
      PublishSummary: publish,
      RecordFailure: publish,
    },
  });

  let dir: string | undefined;
  if (published) {
    dir = runDir(services.paths.root, published.runId);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'summary.json'), JSON.stringify(published, null, 2));
    await writeFile(path.join(dir, 'report.html'), renderRunReport(published));
    await writeFile(path.join(dir, 'history.json'), JSON.stringify({ events: execution.history }, null, 2));
  }
  return { execution, summary: published, runDir: dir };
}

async function timed<T>(timings: Record<string, number>, name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    timings[name] = (timings[name] ?? 0) + (performance.now() - t0) / 1000;
  }
}

/** The container environment the RunDbt state passes (ECS RunTask ContainerOverrides). */
function containerEnvironment(request: unknown): Record<string, string> {
  const overrides = (
    request as { Overrides?: { ContainerOverrides?: { Environment?: { Name: string; Value: string }[] }[] } }
  ).Overrides?.ContainerOverrides?.[0]?.Environment;
  if (!overrides) throw new MdsError('the RunDbt task request has no container environment');
  return Object.fromEntries(overrides.map((e) => [e.Name, e.Value]));
}

/** How a failed ECS task surfaces in Step Functions: States.TaskFailed with the task's reason. */
function ecsTaskFailed(reason: string): Error {
  const err = new Error(JSON.stringify({ StopCode: 'EssentialContainerExited', StoppedReason: reason }));
  err.name = 'States.TaskFailed';
  return err;
}
