/**
 * The local pipeline commands:
 *   mds local up      the whole pipeline on the embedded default (the main job)
 *   mds local clean   remove the local data directory
 *   mds run           run the hourly workflow for a window (a backfill or a re-run)
 *   mds status        what is running and the last runs
 */
import path from 'node:path';
import { rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { MdsError, UsageError } from '../../lambdas/core/errors.ts';
import type { RunWindow } from '../../lambdas/core/run-summary.ts';
import { LOCAL_DEFAULTS, DEFAULT_DATA_DIR, localPaths } from '../../localstack/paths.ts';
import { acquireLock, listRuns, liveHolder, type Lock } from '../../localstack/state.ts';
// The pipeline modules pull in Kafka, DuckDB, the AWS SDK and the CDK: they are loaded when a command runs,
// so `mds --help` and the other commands start fast.
import type { LocalServices } from '../../localstack/pipeline/services.ts';
import type { PipelineReport } from '../../localstack/pipeline/up.ts';
import type { HistoryEvent } from '../../localstack/workflow/executor.ts';
import { addSimulationOptions, resolveSimulation, type SimulationFlags } from './simulate.ts';
import { formatTable, parseInteger, parsePort, progressBar, startOfHour } from './cli-util.ts';
import { assertDashboardPortFree, assertPlannableWindow } from './preflight.ts';
import { diskFullFailure } from './disk-full.ts';
import { HOUR_MS } from '../../lambdas/core/window.ts';

const LOCAL_UP_EVENTS = 300_000;

interface ServiceFlags {
  readonly data: string;
  readonly brokerPort: number;
  readonly s3Port: number;
  /** A cloud assembly folder (`cdk synth -c env=dev -o <dir>`); default: synthesized and cached. */
  readonly assembly?: string;
}

interface UpFlags extends SimulationFlags, ServiceFlags {
  readonly once?: boolean;
  readonly json?: boolean;
  readonly dashboardPort: number;
}

function addServiceOptions(cmd: Command): Command {
  return cmd
    .option(
      '--data <dir>',
      'local data directory (broker logs, S3 objects, warehouse, runs)',
      DEFAULT_DATA_DIR,
    )
    .option(
      '--broker-port <port>',
      'local Kafka broker port',
      (v) => parsePort(v, '--broker-port'),
      LOCAL_DEFAULTS.brokerPort,
    )
    .option(
      '--s3-port <port>',
      'local S3 server port',
      (v) => parsePort(v, '--s3-port'),
      LOCAL_DEFAULTS.s3Port,
    )
    .option(
      '--assembly <dir>',
      'run the functions and state machine of this cloud assembly (the output of cdk synth -c env=dev -o <dir>) instead of synthesizing the sources',
    );
}

export function registerLocal(program: Command): void {
  const local = program
    .command('local')
    .description('Run the whole pipeline on this machine, with no cloud account.');

  const up = local
    .command('up')
    .description(
      'Start the local broker, S3 server and event source mapping, simulate and produce events, land them in Bronze, ' +
        'run the hourly workflow for every hour, print the reconciled summary, then keep serving the dashboard.',
    );
  addSimulationOptions(up, { events: LOCAL_UP_EVENTS });
  addServiceOptions(up)
    .option(
      '--dashboard-port <port>',
      'dashboard port',
      (v) => parsePort(v, '--dashboard-port'),
      LOCAL_DEFAULTS.dashboardPort,
    )
    .option('--once', 'exit after the summary instead of serving until Ctrl-C')
    .option('--json', 'print the summary as one JSON object on stdout')
    .addHelpText(
      'after',
      `
With the same --seed and window, the events are exactly those of \`mds simulate\` with the same flags.

Examples:
  mds local up --once
  mds local up --events 1000000 --invalid-fraction 0.01 --late-fraction 0.02 --duplicate-fraction 0.01 --once --json
`,
    )
    .action(async (flags: UpFlags) => localUp(flags));

  local
    .command('clean')
    .description('Remove the local data directory (refuses while a local pipeline uses it).')
    .option('--data <dir>', 'local data directory', DEFAULT_DATA_DIR)
    .action(async (flags: { data: string }) => {
      const holder = await liveHolder(flags.data);
      if (holder) {
        throw new MdsError(
          `a local pipeline (pid ${holder.pid}) uses ${localPaths(flags.data).root}; stop it with Ctrl-C first`,
        );
      }
      await rm(localPaths(flags.data).root, { recursive: true, force: true });
      process.stderr.write(`removed ${localPaths(flags.data).root}\n`);
    });

  addServiceOptions(
    program
      .command('run')
      .description('Run the hourly workflow for a window on the local services (a backfill or a re-run).')
      .requiredOption(
        '--window <start/end>',
        'ISO-8601 instants on hour boundaries, e.g. 2026-11-23T08:00:00Z/2026-11-23T10:00:00Z',
      ),
  )
    .option('--json', 'print the run summary as JSON on stdout')
    .action(async (flags: ServiceFlags & { window: string; json?: boolean }) => runWindow(flags));

  program
    .command('status')
    .description('Show what the local pipeline is running and its last workflow runs.')
    .option('--data <dir>', 'local data directory', DEFAULT_DATA_DIR)
    .option('--limit <n>', 'runs to show', (v) => parseInteger(v, '--limit', 1), 10)
    .option('--json', 'print as JSON')
    .action(async (flags: { data: string; limit: number; json?: boolean }) => status(flags));
}

async function withServices<T>(
  flags: ServiceFlags,
  what: string,
  fn: (services: LocalServices, lock: Lock) => Promise<T>,
): Promise<T> {
  const lock = await acquireLock(flags.data, what);
  const { startLocalServices } = await import('../../localstack/pipeline/services.ts');
  const { assertAssemblyFresh, readAssembly } = await import('../../localstack/lambda/assembly.ts');
  let services: LocalServices | undefined;
  try {
    const assembly = flags.assembly ? readAssembly(path.resolve(flags.assembly), 'dev') : undefined;
    if (assembly) assertAssemblyFresh(assembly);
    services = await startLocalServices({
      dataDir: flags.data,
      brokerPort: flags.brokerPort,
      s3Port: flags.s3Port,
      assembly,
    });
    await lock.update({ broker: services.broker.bootstrap, s3: services.s3Server.endpoint });
    return await fn(services, lock);
  } catch (err) {
    throw diskFullFailure(err, localPaths(flags.data).root, what) ?? err;
  } finally {
    await services?.close();
    await lock.release();
  }
}

async function localUp(flags: UpFlags): Promise<void> {
  const now = new Date();
  const simulation = resolveSimulation(flags, now, { events: LOCAL_UP_EVENTS });
  // The workflow runs once per hour of the window, so no backfill limit applies, but every hour must be one
  // PlanWindow accepts: checked now, not after the events are produced and landed.
  assertPlannableWindow(simulation, now, {
    start: flags.start ? '--start' : `the window start (--end minus ${flags.duration ? '--duration' : '6h'})`,
    end: flags.end ? '--end' : 'the window end',
  });
  if (!flags.once) await assertDashboardPortFree(flags.dashboardPort);
  const err = process.stderr;
  const say = (line: string) => {
    if (!flags.json || err.isTTY) err.write(`${line}\n`);
  };
  const stages: Record<string, number> = {};
  const t0 = performance.now();
  const { runLocalPipeline } = await import('../../localstack/pipeline/up.ts');
  await withServices(flags, 'mds local up', async (services, lock) => {
    stages.services = round((performance.now() - t0) / 1000);
    say(
      `local services up in ${stages.services}s: broker ${services.broker.bootstrap}, S3 ${services.s3Server.endpoint}, data ${services.paths.root}`,
    );
    let bar: ReturnType<typeof progressBar> | undefined;
    let last = 0;
    const report = await runLocalPipeline(
      services,
      simulation,
      {
        stage: (name, phase, seconds) => {
          if (phase === 'start' && name === 'produce') {
            bar = progressBar({
              total: simulation.events,
              label: 'produce',
              unit: 'events',
              minTotal: 50_000,
            });
          }
          if (phase === 'start') say(`▶ ${name}`);
          if (phase === 'end') {
            bar?.stop();
            bar = undefined;
            say(`✔ ${name} ${seconds}s`);
          }
        },
        produced: (sent) => {
          bar?.increment(sent - last);
          last = sent;
        },
        transition: (label, e) => {
          const line = transitionLine(e);
          if (line) say(`  ${label}  ${line}`);
        },
      },
      stages,
    );
    stages.total = round((performance.now() - t0) / 1000);
    if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else err.write(`\n${renderReport(report)}\n`);
    if (!report.reconciliation.ok) process.exitCode = 1;
    if (flags.once) return;

    const { createDashboardServer, consoleLog } = await import('../../dashboard/server.ts');
    const { openDuckDbWarehouse } = await import('../../lambdas/core/warehouse/duckdb.ts');
    const dashboard = await createDashboardServer({
      // A connection of its own on the open database, so page queries never interleave with a workflow run's.
      warehouse: () => openDuckDbWarehouse({ path: services.paths.warehouse }),
      release: (wh) => wh.close?.() ?? Promise.resolve(),
      port: flags.dashboardPort,
      log: consoleLog(),
    });
    await lock.update({
      broker: services.broker.bootstrap,
      s3: services.s3Server.endpoint,
      dashboard: dashboard.url,
    });
    err.write(
      `\ndashboard: ${dashboard.url}\nthe broker, S3 server and event source mapping keep running; the workflow runs at 5 past each hour. Ctrl-C to stop.\n`,
    );
    await serveUntilSignal(services, dashboard);
  });
}

/** Runs the workflow at five past every hour for the hour before, as the deployed schedule does. */
async function serveUntilSignal(
  services: LocalServices,
  dashboard: { close(): Promise<void> },
): Promise<void> {
  const { runWorkflowLocally } = await import('../../localstack/pipeline/workflow.ts');
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout;
    const schedule = () => {
      const next = startOfHour(new Date()).getTime() + HOUR_MS + 5 * 60_000;
      timer = setTimeout(async () => {
        const run = await runWorkflowLocally(services, {}).catch((e: unknown) => {
          process.stderr.write(`scheduled run failed to start: ${String(e)}\n`);
          return undefined;
        });
        if (run)
          process.stderr.write(
            `scheduled run ${run.summary?.runId ?? run.execution.executionName}: ${run.execution.status}\n`,
          );
        schedule();
      }, next - Date.now());
    };
    schedule();
    const stop = () => {
      clearTimeout(timer);
      process.stderr.write('\nstopping...\n');
      dashboard.close().finally(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

async function runWindow(flags: ServiceFlags & { window: string; json?: boolean }): Promise<void> {
  const now = new Date();
  const window = parseWindow(flags.window, now);
  // What parseWindow does not check (the longest backfill) is PlanWindow's to say, before services start.
  const { loadConfig } = await import('../../lib/config/environments.ts');
  assertPlannableWindow(
    { start: new Date(window.start), end: new Date(window.end) },
    now,
    { start: 'START', end: 'END', flag: '--window' },
    loadConfig('dev').workflow.maxWindowDays,
  );
  const { runWorkflowLocally } = await import('../../localstack/pipeline/workflow.ts');
  await withServices(flags, 'mds run', async (services) => {
    await services.mapping.drained(5 * 60_000);
    const run = await runWorkflowLocally(services, {
      window,
      executionName: `backfill-${Date.now().toString(36)}`,
      onEvent: (e) => {
        const line = transitionLine(e);
        if (line && !flags.json) process.stderr.write(`  ${line}\n`);
      },
    });
    if (flags.json) process.stdout.write(`${JSON.stringify(run.summary ?? run.execution)}\n`);
    else {
      const s = run.summary;
      process.stderr.write(
        `\nrun ${s?.runId ?? run.execution.executionName}: ${run.execution.status}\n` +
          (s
            ? `${formatTable([
                ['landed', s.counts.landed],
                ['quarantined', s.counts.quarantined],
                ['loaded', s.counts.loaded],
                ['modelled', s.counts.modelled],
              ])}\n`
            : '') +
          (run.execution.status === 'FAILED'
            ? `error: ${run.execution.error}: ${run.execution.cause}\n`
            : '') +
          (run.runDir ? `summary, report and history: ${run.runDir}\n` : ''),
      );
    }
    if (run.execution.status !== 'SUCCEEDED') process.exitCode = 1;
  });
}

/** `START/END`: whole hours, end after start, not in the future. */
export function parseWindow(value: string, now: Date): RunWindow {
  const parts = value.split('/');
  if (parts.length !== 2)
    throw new UsageError(
      `--window ${JSON.stringify(value)}: expected START/END, e.g. 2026-11-23T08:00:00Z/2026-11-23T10:00:00Z`,
    );
  const [start, end] = parts.map((p, i) => {
    const d = new Date(p);
    if (!/[zZ]|[+-]\d\d:\d\d$/.test(p) || Number.isNaN(d.getTime())) {
      throw new UsageError(
        `--window: ${i === 0 ? 'START' : 'END'} ${JSON.stringify(p)} is not an ISO-8601 instant with a zone (e.g. 2026-11-23T08:00:00Z)`,
      );
    }
    if (d.getTime() % HOUR_MS !== 0) throw new UsageError(`--window: ${p} is not on an hour boundary`);
    return d;
  }) as [Date, Date];
  if (end.getTime() <= start.getTime())
    throw new UsageError(`--window: END ${end.toISOString()} is not after START ${start.toISOString()}`);
  if (end.getTime() > startOfHour(now).getTime()) {
    throw new UsageError(
      `--window: END ${end.toISOString()} is in the future or inside the current hour; the last complete hour ends at ${startOfHour(now).toISOString()}`,
    );
  }
  return { start: start.toISOString(), end: end.toISOString() };
}

async function status(flags: { data: string; limit: number; json?: boolean }): Promise<void> {
  const running = await liveHolder(flags.data);
  const runs = (await listRuns(flags.data)).slice(0, flags.limit);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ running: running ?? null, runs })}\n`);
    return;
  }
  const out = process.stdout;
  out.write(
    running
      ? `local pipeline running (pid ${running.pid}, since ${running.startedAt})\n  broker ${running.broker ?? '-'}  S3 ${running.s3 ?? '-'}  dashboard ${running.dashboard ?? '-'}\n`
      : `no local pipeline is running (data: ${localPaths(flags.data).root})\n`,
  );
  if (runs.length === 0) {
    out.write('no workflow runs yet: start one with `mds local up` or `mds run --window START/END`\n');
    return;
  }
  out.write(`\nlast ${runs.length} runs:\n`);
  for (const r of runs) {
    const secs = (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000;
    out.write(
      `  ${r.status.padEnd(9)} ${r.window.start} .. ${r.window.end}  loaded ${r.counts.loaded.toLocaleString('en-US')}  modelled ${r.counts.modelled.toLocaleString('en-US')}  ${secs.toFixed(1)}s  ${r.runId}` +
        (r.failure ? `\n            ${r.failure.state}: ${r.failure.error}: ${r.failure.cause}` : '') +
        '\n',
    );
  }
}

/** One line per finished state, as the console's graph shows them. */
function transitionLine(e: HistoryEvent): string | undefined {
  const name = e.details?.name as string | undefined;
  if (e.type.endsWith('StateEntered')) return name ? `→ ${name}` : undefined;
  if (e.type === 'TaskFailed') return `✖ ${name}: ${String(e.details?.error)}`;
  if (e.type === 'TaskRetried') return `↻ ${name} (retry)`;
  if (e.type === 'ExecutionSucceeded') return '✔ succeeded';
  if (e.type === 'ExecutionFailed') return `✖ failed: ${String(e.details?.error)}`;
  return undefined;
}

/** The summary `local up` prints: counts, then each check (what differs under a failed one), then Gold. */
export function renderReport(r: PipelineReport): string {
  const checks = r.reconciliation.checks.flatMap((c) => {
    if (c.skipped !== undefined) return [`  – ${c.name}: skipped: ${c.skipped}`];
    const line = `  ${c.ok ? '✔' : '✖'} ${c.name}: ${c.expected.toLocaleString('en-US')} vs ${c.actual.toLocaleString('en-US')}`;
    return !c.ok && c.detail ? [line, `      ${c.detail}`] : [line];
  });
  return [
    `pipeline ${r.window.start} .. ${r.window.end} (seed ${r.seed})`,
    formatTable([
      ['events produced', r.events.produced],
      [
        '  valid (distinct)',
        `${r.events.valid.toLocaleString('en-US')} (${r.events.distinct.toLocaleString('en-US')})`,
      ],
      ['  duplicates / late / invalid', `${r.events.duplicates} / ${r.events.late} / ${r.events.invalid}`],
      ['landed in Bronze', r.events.landed],
      ['quarantined', r.events.quarantined],
      [
        'Bronze objects / records',
        `${r.bronze.objects.toLocaleString('en-US')} / ${r.bronze.records.toLocaleString('en-US')}`,
      ],
      ['warehouse Bronze rows', r.warehouse.bronze_rows],
      ['Silver rows', r.silver.rows],
      ...Object.entries(r.gold).map(([t, n]) => [`Gold ${t}`, n] as const),
      [
        'workflow runs',
        `${r.runs.filter((x) => x.status === 'SUCCEEDED').length} succeeded of ${r.runs.length}`,
      ],
    ]),
    `reconciliation: ${r.reconciliation.ok ? 'OK' : 'MISMATCH'}`,
    ...checks,
    'top tracks:',
    ...r.top.tracks.map(
      (t, i) => `  ${i + 1}. ${t.song_name} — ${t.artist_name} (${t.plays.toLocaleString('en-US')} plays)`,
    ),
    'top artists:',
    ...r.top.artists.map((a, i) => `  ${i + 1}. ${a.artist_name} (${a.plays.toLocaleString('en-US')} plays)`),
    `stage seconds: ${Object.entries(r.stages)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `data: ${r.data.dir}  (warehouse ${r.data.warehouse}, run reports under ${r.data.runs})`,
  ].join('\n');
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
