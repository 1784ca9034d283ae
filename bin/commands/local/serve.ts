/**
 * What `mds local up` does after its summary without --once: serves the dashboard, keeps the broker, S3 server
 * and event source mapping running, and runs the workflow when the environment's schedule fires, until Ctrl-C.
 */
import type { LocalServices } from '../../../localstack/pipeline/services.ts';
import type { Lock } from '../../../localstack/state.ts';
import type { WorkflowSchedule } from '../../../localstack/workflow/schedule.ts';
import { planWindow } from '../../../lambdas/planner/plan.ts';

/** The window a run started at `scheduledTime` covers: the planner's, the hour before. */
export function scheduledWindow(scheduledTime: Date): { start: string; end: string } {
  return planWindow({ input: { scheduledTime: scheduledTime.toISOString() } }, scheduledTime, {
    maxWindowDays: 1,
    lookbackHours: 0,
  }).window;
}

/** "next at <time>, for the window <start> .. <end>", or why nothing fires. */
export function describeNextRun(schedule: WorkflowSchedule, next: Date | undefined): string {
  const what = `${schedule.expression} (${schedule.timeZone})`;
  if (!schedule.enabled) return `the schedule ${what} is paused (schedule.enabled false): no scheduled run`;
  if (!next) return `the schedule ${what} fires no more`;
  const w = scheduledWindow(next);
  return `the workflow runs on the schedule ${what}: next at ${next.toISOString()}, for the window ${w.start} .. ${w.end}`;
}

export async function serveUntilSignal(
  services: LocalServices,
  lock: Lock,
  dashboardPort: number,
  dashboardHost = '127.0.0.1',
): Promise<void> {
  const { createDashboardServer, consoleLog } = await import('../../../dashboard/server.ts');
  const { workflowScheduleOf } = await import('../../../localstack/workflow/schedule.ts');
  const { runStoredSchedule, systemClock } = await import('../../../localstack/workflow/scheduler.ts');
  const { ScheduleStore, scheduleFile } = await import('../../../localstack/workflow/scheduler-endpoint.ts');
  const { LOCAL_STATE_MACHINE } = await import('../../../localstack/workflow/local-workflow.ts');
  const { stateMachineArnOf } = await import('../../../localstack/workflow/sfn-endpoint.ts');
  const { stackName } = await import('../../../lib/app.ts');
  const { assembly } = services;
  // The local schedule (workflow-schedule.json, which `mds schedule pause|resume|set` changes), created from the
  // assembly's: a pause from another process takes effect before the next fire time.
  const store = new ScheduleStore(
    workflowScheduleOf(
      assembly.templates,
      stackName(assembly.envName as Parameters<typeof stackName>[0], 'Pipeline'),
    ),
    stateMachineArnOf(LOCAL_STATE_MACHINE),
    scheduleFile(services.paths.root),
  );
  const stopWatching = store.watch();
  const changing = store.changing();
  let schedule = changing.current();
  store.onChange(() => {
    schedule = changing.current();
    process.stderr.write(
      `schedule changed: ${describeNextRun(schedule.schedule, schedule.next(new Date()))}\n`,
    );
  });

  // Scheduled runs go through the local Step Functions endpoint, so `mds runs list` and the runs page see them.
  const { openLocalWorkflow } = await import('../../../localstack/workflow/local-workflow.ts');
  const { SFNClient, StartExecutionCommand } = await import('@aws-sdk/client-sfn');
  const { sfnRunsSource } = await import('../../../dashboard/runs.ts');
  const { readFile } = await import('node:fs/promises');
  const workflow = await openLocalWorkflow({ dataDir: services.paths.root, services });
  const sfn = new SFNClient({
    endpoint: workflow.sfnUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const dashboard = await createDashboardServer({
    runs: sfnRunsSource({
      sfn,
      stateMachineArn: workflow.stateMachineArn,
      report: (runId) =>
        readFile(`${services.paths.runs}/${runId}/report.html`, 'utf8').catch(() => undefined),
    }),
    // A connection of its own on the open database, so page queries never interleave with a workflow run's.
    warehouse: () => services.warehouse.open(),
    release: (wh) => wh.close?.() ?? Promise.resolve(),
    port: dashboardPort,
    host: dashboardHost,
    log: consoleLog(),
  });
  await lock.update({
    broker: services.broker.bootstrap,
    s3: services.s3Server.endpoint,
    dashboard: dashboard.url,
  });
  const err = process.stderr;
  err.write(
    `\ndashboard: ${dashboard.url}\nthe broker, S3 server and event source mapping keep running; ` +
      `${describeNextRun(schedule.schedule, schedule.next(new Date(systemClock.now() - 1)))}. Ctrl-C to stop.\n`,
  );

  const stop = new AbortController();
  const onSignal = () => {
    err.write('\nstopping...\n');
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await runStoredSchedule({
      schedule: changing,
      clock: systemClock,
      signal: stop.signal,
      fire: async (scheduledTime) => {
        const window = scheduledWindow(scheduledTime);
        const name = `scheduled-${scheduledTime.toISOString().replace(/[-:]/g, '').slice(0, 13)}-${Date.now().toString(36)}`;
        const started = await sfn
          .send(
            new StartExecutionCommand({
              stateMachineArn: workflow.stateMachineArn,
              name,
              input: JSON.stringify({ window }),
            }),
          )
          .catch((e: unknown) => {
            err.write(`scheduled run failed to start: ${String(e)}\n`);
            return undefined;
          });
        if (started) {
          await workflow.idle();
          const record = workflow.store.get(started.executionArn as string);
          err.write(
            `scheduled run ${record?.runId ?? name} (${window.start} .. ${window.end}): ${record?.status}` +
              (record?.error ? ` (${record.error}; mds runs show ${name})` : '') +
              '\n',
          );
        }
        err.write(`${describeNextRun(schedule.schedule, schedule.next(scheduledTime))}\n`);
      },
      skipped: (first, count) =>
        err.write(
          `${count} fire time(s) from ${first.toISOString()} passed while the run was going: skipped\n`,
        ),
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    stopWatching();
    await dashboard.close();
    sfn.destroy();
    await workflow.close();
  }
}
