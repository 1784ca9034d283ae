/**
 * `mds runs list|show|start|backfill|redrive`: the workflow's executions, as an orchestrator shows them, on the
 * official Step Functions client. One code path for both places:
 *  - `--env NAME`: the deployed environment; the state machine (and the schedule, for `mds schedule`) are found
 *    through the Pipeline stack's outputs (CloudFormation DescribeStacks).
 *  - locally (the default, or `--local`): the same calls go to the local Step Functions and Scheduler endpoints
 *    (localstack/workflow/sfn-endpoint.ts, scheduler-endpoint.ts) that this command starts on 127.0.0.1 over
 *    the local data directory; a run starts the local services (broker, S3, Lambda runtime, warehouse) only
 *    when one is started, and holds the data directory while it does.
 */
import { runIdOfHistory } from '../../lambdas/core/run-id.ts';
import type { Endpoints } from '../../localstack/pipeline/endpoint-settings.ts';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { MdsError, UsageError } from '../../lambdas/core/errors.ts';
import type { RunWindow } from '../../lambdas/core/run-summary.ts';
import { DEFAULT_DATA_DIR, localPaths } from '../../localstack/paths.ts';
import { parseInteger, parsePort } from './cli-util.ts';
import { progressBar } from './cli-util.ts';
import { assertPlannableWindow } from './preflight.ts';

export interface TargetFlags {
  readonly env?: string;
  readonly local?: boolean;
  readonly data: string;
  readonly assembly?: string;
  readonly region?: string;
  readonly brokerPort?: number;
  readonly s3Port?: number;
  /** External Kafka, S3 and warehouse for the local services (mds run --brokers, ...). */
  readonly endpoints?: Endpoints;
}

/** Where the workflow runs: the clients, the state machine and schedule they address. */
export interface WorkflowTarget {
  readonly sfn: SFNClient;
  readonly scheduler: SchedulerClient;
  readonly stateMachineArn: string;
  readonly scheduleName: string;
  readonly scheduleGroup: string;
  /** `local` or the environment's name, for messages. */
  readonly where: string;
  readonly local: boolean;
  /** The data directory of a local target (run records under runs/<runId>/). */
  readonly dataRoot?: string;
  /** The deployed environment's name (with --env). */
  readonly env?: string;
  /** How often a waiting command polls DescribeExecution. */
  readonly pollMs: number;
  close(): Promise<void>;
}

export function addTargetOptions(cmd: Command): Command {
  return cmd
    .option(
      '--env <name>',
      'a deployed environment (dev, prod): its stacks give the state machine and schedule',
    )
    .option('--local', 'the local pipeline (the default without --env)')
    .option('--region <region>', 'AWS region of --env (default: AWS_REGION or the configured profile)')
    .option('--data <dir>', 'local data directory', DEFAULT_DATA_DIR)
    .option('--assembly <dir>', 'locally, run the state machine of this cloud assembly (cdk synth -o <dir>)')
    .option('--broker-port <port>', 'locally, the Kafka broker port of a run (0 picks a free port)', (v) =>
      parsePort(v, '--broker-port'),
    )
    .option('--s3-port <port>', 'locally, the S3 server port of a run (0 picks a free port)', (v) =>
      parsePort(v, '--s3-port'),
    );
}

/** The Pipeline stack outputs `mds runs` and `mds schedule` read (lib/stacks/pipeline-stack.ts). */
export const OUTPUTS = {
  stateMachine: 'StateMachineArn',
  scheduleName: 'WorkflowScheduleName',
  scheduleGroup: 'WorkflowScheduleGroup',
} as const;

export async function openTarget(flags: TargetFlags): Promise<WorkflowTarget> {
  if (flags.env !== undefined && flags.local) {
    throw new UsageError('--env and --local exclude each other: drop one of them');
  }
  return flags.env === undefined ? openLocalTarget(flags) : openAwsTarget(flags.env, flags.region);
}

async function openAwsTarget(env: string, region: string | undefined): Promise<WorkflowTarget> {
  const { ENVIRONMENT_NAMES } = await import('../../lib/config/environments.ts');
  if (!(ENVIRONMENT_NAMES as readonly string[]).includes(env)) {
    throw new UsageError(`--env ${env}: no such environment; use ${ENVIRONMENT_NAMES.join(' or ')}`);
  }
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const stack = `Mds-${env}-Pipeline`;
  const cfn = new CloudFormationClient(region ? { region } : {});
  let outputs: Record<string, string>;
  try {
    const described = await cfn.send(new DescribeStacksCommand({ StackName: stack }));
    outputs = Object.fromEntries(
      (described.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']),
    );
  } catch (err) {
    const e = err as Error;
    if (/does not exist/i.test(e.message)) throw notDeployed(env, stack, await cfn.config.region());
    if (e.name === 'CredentialsProviderError') {
      throw new MdsError(
        `--env ${env}: no AWS credentials to read the stack ${stack}; set AWS_PROFILE (or run \`aws sso login\`) and try again`,
      );
    }
    throw new MdsError(`--env ${env}: cannot read the stack ${stack}: ${e.message}`, { cause: err });
  } finally {
    cfn.destroy();
  }
  const stateMachineArn = outputs[OUTPUTS.stateMachine];
  if (!stateMachineArn) {
    throw new MdsError(
      `--env ${env}: the stack ${stack} has no ${OUTPUTS.stateMachine} output; deploy it again with ` +
        `\`npx cdk deploy -c env=${env} ${stack}\``,
    );
  }
  const config = region ? { region } : {};
  return {
    sfn: new SFNClient(config),
    scheduler: new SchedulerClient(config),
    stateMachineArn,
    scheduleName: outputs[OUTPUTS.scheduleName] ?? '',
    scheduleGroup: outputs[OUTPUTS.scheduleGroup] || 'default',
    where: env,
    env,
    local: false,
    pollMs: 10_000,
    close: async () => undefined,
  };
}

export function notDeployed(env: string, stack: string, region: string): MdsError {
  return new MdsError(
    `the environment ${env} is not deployed: there is no stack ${stack} in ${region}; deploy it with ` +
      `\`npx cdk deploy -c env=${env} --all\` (docs/deploy.md), or pick the region with --region`,
  );
}

async function openLocalTarget(flags: TargetFlags): Promise<WorkflowTarget> {
  const { openLocalWorkflow } = await import('../../localstack/workflow/local-workflow.ts');
  const local = await openLocalWorkflow({
    dataDir: flags.data,
    assembly: flags.assembly,
    brokerPort: flags.brokerPort,
    s3Port: flags.s3Port,
    endpoints: flags.endpoints,
  });
  const config = {
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  };
  const sfn = new SFNClient({ ...config, endpoint: local.sfnUrl });
  const scheduler = new SchedulerClient({ ...config, endpoint: local.schedulerUrl });
  return {
    sfn,
    scheduler,
    stateMachineArn: local.stateMachineArn,
    scheduleName: local.scheduleName,
    scheduleGroup: 'default',
    where: 'local',
    local: true,
    dataRoot: localPaths(flags.data).root,
    pollMs: 200,
    close: async () => {
      sfn.destroy();
      scheduler.destroy();
      await local.close();
    },
  };
}

async function withTarget<T>(flags: TargetFlags, fn: (t: WorkflowTarget) => Promise<T>): Promise<T> {
  const target = await openTarget(flags);
  try {
    return await fn(target);
  } finally {
    await target.close();
  }
}

export function executionArnOf(stateMachineArn: string, name: string): string {
  if (name.startsWith('arn:')) return name;
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/** The window an execution runs: its input's `window`, or the hour before its `scheduledTime`. */
export function windowOf(input: string | undefined): RunWindow | undefined {
  try {
    const parsed = JSON.parse(input ?? '{}') as { window?: RunWindow; scheduledTime?: string };
    if (parsed.window?.start && parsed.window.end) return parsed.window;
    if (parsed.scheduledTime) {
      const end = Math.floor(Date.parse(parsed.scheduledTime) / 3_600_000) * 3_600_000;
      return { start: new Date(end - 3_600_000).toISOString(), end: new Date(end).toISOString() };
    }
  } catch {
    // not JSON: no window
  }
  return undefined;
}

const windowParam = (input: string | undefined) => {
  const w = windowOf(input);
  return w ? `${w.start}/${w.end}` : 'START/END';
};

const windowText = (w: RunWindow | undefined) =>
  w ? `${w.start.slice(0, 16).replace('T', ' ')} .. ${w.end.slice(0, 16).replace('T', ' ')}` : '-';

const duration = (d: { startDate?: Date; stopDate?: Date }) =>
  d.startDate
    ? `${(((d.stopDate ?? new Date()).getTime() - d.startDate.getTime()) / 1000).toFixed(1)}s`
    : '-';

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] as number))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export async function listExecutions(
  target: WorkflowTarget,
  limit: number,
  status?: string,
): Promise<DescribeExecutionCommandOutput[]> {
  const out: DescribeExecutionCommandOutput[] = [];
  let nextToken: string | undefined;
  do {
    const page = await target.sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: target.stateMachineArn,
        maxResults: Math.min(limit - out.length, 100),
        statusFilter: status as never,
        nextToken,
      }),
    );
    for (const e of page.executions ?? []) {
      out.push(await target.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn })));
    }
    nextToken = page.nextToken;
  } while (nextToken && out.length < limit);
  return out;
}

export async function executionHistory(
  target: WorkflowTarget,
  executionArn: string,
): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await target.sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** One line per console event a person follows: states entered, task failures, the end. */
export function eventLine(e: HistoryEvent): string | undefined {
  const entered = e.stateEnteredEventDetails?.name;
  if (e.type?.endsWith('StateEntered') && entered) return `→ ${entered}`;
  if (e.type === 'TaskFailed') return `✖ task failed: ${e.taskFailedEventDetails?.error}`;
  if (e.type === 'ExecutionRedriven') return `↻ redriven (${e.executionRedrivenEventDetails?.redriveCount})`;
  if (e.type === 'ExecutionSucceeded') return '✔ succeeded';
  if (e.type === 'ExecutionFailed') return `✖ failed: ${e.executionFailedEventDetails?.error}`;
  if (e.type === 'ExecutionAborted') return '✖ aborted';
  return undefined;
}

/** Waits until the execution stops, printing its transitions from event `from` on. */
export async function follow(
  target: WorkflowTarget,
  executionArn: string,
  print?: (line: string) => void,
  from = 0,
): Promise<DescribeExecutionCommandOutput> {
  let seen = from;
  for (;;) {
    const d = await target.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (print) {
      const events = await executionHistory(target, executionArn);
      for (const e of events.slice(seen)) {
        const line = eventLine(e);
        if (line) print(line);
      }
      seen = events.length;
    }
    if (d.status !== 'RUNNING' && d.status !== 'PENDING_REDRIVE') return d;
    await new Promise((r) => setTimeout(r, target.pollMs));
  }
}

/** Execution names may not hold ':' (StartExecution): 2026-11-20T00:00:00Z becomes 20261120T0000. */
export function windowName(prefix: string, w: RunWindow): string {
  const compact = (t: string) => t.replace(/[-:]/g, '').slice(0, 13);
  return `${prefix}-${compact(w.start)}-${compact(w.end)}-${Date.now().toString(36)}`;
}

/** The windows of a backfill: START to END cut into days (or hours), the last one cut at END. */
export function backfillWindows(start: string, end: string, by: 'day' | 'hour', now: Date): RunWindow[] {
  // A bare date is midnight UTC of that day.
  const instant = (v: string) => (/^\d{4}-\d{2}-\d{2}$/.test(v.trim()) ? `${v.trim()}T00:00:00Z` : v);
  const range = assertPlannableWindow({ start: instant(start), end: instant(end) }, now, {
    start: 'START',
    end: 'END',
  });
  const step = by === 'day' ? 86_400_000 : 3_600_000;
  const windows: RunWindow[] = [];
  const last = Date.parse(range.end);
  for (let t = Date.parse(range.start); t < last; t += step) {
    windows.push({ start: new Date(t).toISOString(), end: new Date(Math.min(t + step, last)).toISOString() });
  }
  return windows;
}

export interface BackfillResult {
  readonly window: RunWindow;
  readonly status: string;
  readonly execution?: string;
  readonly seconds?: number;
  readonly cause?: string;
}

/**
 * One execution per window, at most `concurrency` at once; a window some execution already ran to success is
 * skipped unless `rerun`. Returns one row per window, in window order.
 */
export async function backfill(
  target: WorkflowTarget,
  windows: readonly RunWindow[],
  options: { readonly concurrency: number; readonly rerun?: boolean; readonly onDone?: () => void },
): Promise<BackfillResult[]> {
  const done = new Set<string>();
  if (!options.rerun) {
    for (const d of await listExecutions(target, 10_000, 'SUCCEEDED')) {
      const w = windowOf(d.input);
      if (w) done.add(`${Date.parse(w.start)}/${Date.parse(w.end)}`);
    }
  }
  const results: BackfillResult[] = new Array(windows.length);
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < windows.length) {
      const i = nextIndex++;
      const window = windows[i] as RunWindow;
      if (done.has(`${Date.parse(window.start)}/${Date.parse(window.end)}`)) {
        results[i] = { window, status: 'SKIPPED (succeeded before)' };
        options.onDone?.();
        continue;
      }
      const started = await target.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: target.stateMachineArn,
          name: windowName('backfill', window),
          input: JSON.stringify({ window }),
        }),
      );
      const d = await follow(target, started.executionArn as string);
      results[i] = {
        window,
        status: d.status ?? 'UNKNOWN',
        execution: d.name,
        seconds:
          d.stopDate && d.startDate ? (d.stopDate.getTime() - d.startDate.getTime()) / 1000 : undefined,
        cause: d.error ? `${d.error}: ${d.cause ?? ''}` : undefined,
      };
      options.onDone?.();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  return results;
}

/** The states of an execution as the console's table shows them: entered, duration, outcome. */
export function stateRows(events: readonly HistoryEvent[]): string[][] {
  const rows: string[][] = [];
  const open = new Map<string, { at: Date; row: string[] }>();
  for (const e of events) {
    const entered = e.stateEnteredEventDetails?.name;
    if (e.type?.endsWith('StateEntered') && entered && e.timestamp) {
      const row = [
        entered,
        e.type.replace('StateEntered', ''),
        e.timestamp.toISOString().slice(11, 19),
        '',
        '',
      ];
      rows.push(row);
      open.set(entered, { at: e.timestamp, row });
      if (e.type === 'FailStateEntered') row[4] = 'failed';
    }
    if (e.type === 'TaskFailed') {
      const last = rows.at(-1);
      if (last) last[4] = `failed: ${e.taskFailedEventDetails?.error ?? ''}`;
    }
    const exited = e.stateExitedEventDetails?.name;
    if (e.type?.endsWith('StateExited') && exited && e.timestamp) {
      const o = open.get(exited);
      if (o) {
        o.row[3] = `${((e.timestamp.getTime() - o.at.getTime()) / 1000).toFixed(1)}s`;
        if (!o.row[4]) o.row[4] = 'succeeded';
        open.delete(exited);
      }
    }
    if (e.type === 'ExecutionRedriven')
      rows.push(['(redriven)', '', e.timestamp?.toISOString().slice(11, 19) ?? '', '', '']);
  }
  return rows;
}

interface ListFlags extends TargetFlags {
  readonly limit: number;
  readonly status?: string;
  readonly json?: boolean;
}

export function registerRuns(program: Command): void {
  const runs = program
    .command('runs')
    .description('The workflow runs: list, show, start, backfill and redrive them (locally or with --env).');

  addTargetOptions(
    runs
      .command('list')
      .description('Executions with status, window, duration and failure cause, newest first.')
      .option('--limit <n>', 'executions to show', (v) => parseInteger(v, '--limit', 1), 20)
      .option('--status <status>', 'only RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED ones')
      .option('--json', 'print as JSON'),
  ).action((flags: ListFlags) =>
    withTarget(flags, async (t) => {
      const list = await listExecutions(t, flags.limit, flags.status);
      if (flags.json)
        return void process.stdout.write(`${JSON.stringify(list.map(({ $metadata: _m, ...d }) => d))}\n`);
      if (list.length === 0) {
        return void process.stdout.write(`no runs yet (${t.where}): start one with \`mds runs start\`\n`);
      }
      const rows = list.map((d) => [
        d.status ?? '',
        windowText(windowOf(d.input)),
        d.startDate?.toISOString().slice(0, 19).replace('T', ' ') ?? '',
        duration(d),
        d.redriveCount ? String(d.redriveCount) : '',
        d.name ?? '',
        d.error ? `${d.error}: ${(d.cause ?? '').slice(0, 100)}` : '',
      ]);
      process.stdout.write(
        `${table(['STATUS', 'WINDOW', 'STARTED (UTC)', 'TOOK', 'REDRIVES', 'NAME', 'CAUSE'], rows)}\n`,
      );
    }),
  );

  addTargetOptions(
    runs
      .command('show <execution>')
      .description("One execution's states as the console shows them, its failure cause and run summary.")
      .option('--json', 'print the execution and its history as JSON'),
  ).action((name: string, flags: TargetFlags & { json?: boolean }) =>
    withTarget(flags, async (t) => {
      const executionArn = executionArnOf(t.stateMachineArn, name);
      const d = await t.sfn.send(new DescribeExecutionCommand({ executionArn }));
      const events = await executionHistory(t, executionArn);
      if (flags.json) {
        const { $metadata: _m, ...execution } = d;
        return void process.stdout.write(`${JSON.stringify({ execution, events })}\n`);
      }
      const out: string[] = [
        `${d.name}: ${d.status}  window ${windowText(windowOf(d.input))}  took ${duration(d)}` +
          (d.redriveCount ? `  redriven ${d.redriveCount}x` : ''),
        '',
        table(['STATE', 'TYPE', 'ENTERED', 'TOOK', 'OUTCOME'], stateRows(events)),
      ];
      if (d.error) out.push('', `cause: ${d.error}: ${d.cause ?? ''}`);
      if (d.redriveStatus === 'REDRIVABLE')
        out.push(`redrive it with: mds runs redrive ${d.name}${t.local ? '' : ` --env ${t.where}`}`);
      const summary = t.local
        ? await localSummary(t, events, d.name)
        : await awsSummary(t, events, d.name, flags.region);
      if (summary) out.push('', `run summary: ${summary}`);
      process.stdout.write(`${out.join('\n')}\n`);
    }),
  );

  addTargetOptions(
    runs
      .command('start')
      .description('Start the workflow for a window (default: the hour before now) and follow it.')
      .option(
        '--window <start/end>',
        'ISO-8601 instants on hour boundaries, e.g. 2026-11-23T08:00:00Z/2026-11-23T10:00:00Z',
      )
      .option('--name <name>', 'the execution name (default: run-<window>-<time>)')
      .option('--no-wait', 'return once the execution started (AWS only: a local run lives in this process)'),
  ).action((flags: TargetFlags & { window?: string; name?: string; wait: boolean }) =>
    withTarget(flags, async (t) => {
      const now = new Date();
      const hour = Math.floor(now.getTime() / 3_600_000) * 3_600_000;
      const [start, end] = flags.window?.split('/') ?? [
        new Date(hour - 3_600_000).toISOString(),
        new Date(hour).toISOString(),
      ];
      if (!start || !end) throw new UsageError(`--window ${flags.window}: expected START/END`);
      const window = assertPlannableWindow({ start, end }, now, {
        start: 'START',
        end: 'END',
        flag: '--window',
      });
      if (t.local && !flags.wait) {
        throw new UsageError('--no-wait: a local run lives in this process; drop --no-wait, or use --env');
      }
      const started = await t.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: t.stateMachineArn,
          name: flags.name ?? windowName('run', window),
          input: JSON.stringify({ window }),
        }),
      );
      process.stderr.write(`started ${started.executionArn} (${t.where})\n`);
      if (!flags.wait) return;
      const d = await follow(t, started.executionArn as string, (l) => process.stderr.write(`  ${l}\n`));
      reportEnd(d, t);
    }),
  );

  addTargetOptions(
    runs
      .command('backfill <start> <end>')
      .description('One execution per day (or hour) from START to END, skipping windows that succeeded.')
      .option('--by <unit>', 'day or hour', 'day')
      .option('--concurrency <n>', 'executions at once', (v) => parseInteger(v, '--concurrency', 1), 2)
      .option('--rerun', 'run windows that already succeeded too')
      .addHelpText(
        'after',
        `
START and END are ISO-8601 instants or dates (midnight UTC); END is exclusive:
  mds runs backfill 2026-11-20 2026-11-23          three days, 20, 21 and 22 November
  mds runs backfill 2026-11-20 2026-11-21 --by hour --concurrency 4 --env dev
A range that is reversed, empty, in the future or off the hour is refused (exit 2). Exit code 1 when a
window's execution did not succeed.
`,
      ),
  ).action(
    (
      start: string,
      end: string,
      flags: TargetFlags & { by: string; concurrency: number; rerun?: boolean },
    ) => {
      if (flags.by !== 'day' && flags.by !== 'hour') {
        throw new UsageError(`--by ${flags.by}: use day or hour`);
      }
      const windows = backfillWindows(start, end, flags.by, new Date());
      return withTarget(flags, async (t) => {
        const bar = progressBar({ total: windows.length, label: 'backfill', unit: 'windows' });
        const results = await backfill(t, windows, {
          concurrency: flags.concurrency,
          rerun: flags.rerun,
          onDone: () => bar.increment(1),
        });
        bar.stop();
        const rows = results.map((r) => [
          windowText(r.window),
          r.status,
          r.seconds === undefined ? '' : `${r.seconds.toFixed(1)}s`,
          r.execution ?? '',
          r.cause?.slice(0, 100) ?? '',
        ]);
        process.stdout.write(`${table(['WINDOW', 'STATUS', 'TOOK', 'EXECUTION', 'CAUSE'], rows)}\n`);
        if (results.some((r) => r.status !== 'SUCCEEDED' && !r.status.startsWith('SKIPPED')))
          process.exitCode = 1;
      });
    },
  );

  addTargetOptions(
    runs
      .command('redrive <execution>')
      .description('Redrive a failed execution from the state that failed (RedriveExecution) and follow it.'),
  ).action((name: string, flags: TargetFlags) =>
    withTarget(flags, async (t) => {
      const executionArn = executionArnOf(t.stateMachineArn, name);
      const before = await t.sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (before.redriveStatus !== 'REDRIVABLE') {
        throw new MdsError(
          `${before.name} cannot be redriven: ${before.redriveStatusReason ?? before.status}; ` +
            'start a new run for its window with `mds runs start --window START/END`',
        );
      }
      const history = await executionHistory(t, executionArn);
      // Step Functions redrives the state the execution failed in (developer guide, "Redriving executions").
      // No state of the workflow catches an error, so that is the task that failed, run again with its input;
      // the one Fail state, LoadIncomplete, would only fail again: said before anything is changed.
      const last = history.filter((e) => e.type?.endsWith('StateEntered')).at(-1);
      if (last?.type === 'FailStateEntered') {
        throw new MdsError(
          `${before.name} ended in the Fail state ${last.stateEnteredEventDetails?.name}: ` +
            'a redrive re-runs only that state and fails again; start a new run for its window with ' +
            `\`mds runs start --window ${windowParam(before.input)}\`${t.local ? '' : ` --env ${t.where}`}`,
        );
      }
      const seen = history.length;
      await t.sfn.send(new RedriveExecutionCommand({ executionArn }));
      process.stderr.write(`redriving ${before.name} (${t.where})\n`);
      const d = await follow(t, executionArn, (l) => process.stderr.write(`  ${l}\n`), seen);
      reportEnd(d, t);
    }),
  );
}

function reportEnd(d: DescribeExecutionCommandOutput, t: WorkflowTarget): void {
  process.stderr.write(`${d.name}: ${d.status} in ${duration(d)}\n`);
  if (d.status === 'SUCCEEDED') return;
  process.stderr.write(`cause: ${d.error}: ${d.cause}\n`);
  if (d.redriveStatus === 'REDRIVABLE') {
    process.stderr.write(
      `redrive it with: mds runs redrive ${d.name}${t.local ? '' : ` --env ${t.where}`}\n`,
    );
  }
  process.exitCode = 1;
}

/** The run summary of a local execution (runs/<runId>/summary.json), from the run id its history names. */
async function localSummary(
  t: WorkflowTarget,
  events: readonly HistoryEvent[],
  name: string | undefined,
): Promise<string | undefined> {
  const runId = runIdOfHistory(events, name);
  if (!t.dataRoot || !runId) return undefined;
  const file = path.join(t.dataRoot, 'runs', runId, 'summary.json');
  try {
    const s = JSON.parse(await readFile(file, 'utf8')) as { counts?: Record<string, number> };
    return summaryText(s, path.join(path.dirname(file), 'report.html'));
  } catch {
    return undefined;
  }
}

/** The counts of a run summary and where its report is, in one line. */
function summaryText(summary: { counts?: Record<string, number> }, report: string): string {
  const counts = Object.entries(summary.counts ?? {})
    .map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`)
    .join(', ');
  return `${counts} (${report})`;
}

/**
 * The run summary of a deployed execution, as the Publisher wrote it: s3://<bucket>/runs/<runId>/summary.json,
 * the run id from the history. Undefined when the run published none.
 */
export async function summaryFromS3(
  s3: import('@aws-sdk/client-s3').S3Client,
  bucket: string,
  runId: string,
): Promise<string | undefined> {
  const { getObjectBytes } = await import('../../lambdas/core/s3.ts');
  const { RUNS_PREFIX } = await import('../../lambdas/core/bronze.ts');
  const bytes = await getObjectBytes(s3, bucket, `${RUNS_PREFIX}${runId}/summary.json`).catch(
    () => undefined,
  );
  if (!bytes) return undefined;
  const summary = JSON.parse(Buffer.from(bytes).toString('utf8')) as { counts?: Record<string, number> };
  return summaryText(summary, `s3://${bucket}/${RUNS_PREFIX}${runId}/report.html`);
}

/** The Bronze bucket of the environment (the Storage stack's BronzeBucketName output), then the summary. */
async function awsSummary(
  t: WorkflowTarget,
  events: readonly HistoryEvent[],
  name: string | undefined,
  region: string | undefined,
): Promise<string | undefined> {
  const runId = runIdOfHistory(events, name);
  if (!runId || !t.env) return undefined;
  const cf = await import('@aws-sdk/client-cloudformation');
  const { S3Client } = await import('@aws-sdk/client-s3');
  const config = region ? { region } : {};
  const cfn = new cf.CloudFormationClient(config);
  const s3 = new S3Client(config);
  try {
    const stack = await cfn.send(new cf.DescribeStacksCommand({ StackName: `Mds-${t.env}-Storage` }));
    const bucket = stack.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'BronzeBucketName')?.OutputValue;
    return bucket ? await summaryFromS3(s3, bucket, runId) : undefined;
  } catch {
    return undefined; // the summary is extra: `show` still shows the execution
  } finally {
    cfn.destroy();
    s3.destroy();
  }
}
