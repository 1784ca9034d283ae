/** `mds local up`: the whole pipeline on the embedded default (the main job). */
import type { Command } from 'commander';
import { UsageError } from '../../../lambdas/core/errors.ts';
import { LOCAL_DEFAULTS } from '../../../localstack/paths.ts';
import { addSimulationOptions, resolveSimulation, type SimulationFlags } from '../simulate.ts';
import { parsePort, progressBar } from '../cli-util.ts';
import { assertDashboardPortFree, assertPlannableWindow } from '../preflight.ts';
import { renderReport } from './render-report.ts';
import { serveUntilSignal } from './serve.ts';
import { addServiceOptions, withServices, type ServiceFlags } from './services.ts';
import { transitionLine } from './transitions.ts';

const LOCAL_UP_EVENTS = 300_000;

interface UpFlags extends SimulationFlags, ServiceFlags {
  readonly source: string;
  readonly user?: string;
  readonly once?: boolean;
  readonly json?: boolean;
  readonly dashboardPort: number;
}

export function registerLocalUp(local: Command): void {
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
      'dashboard port (0 picks a free port)',
      (v) => parsePort(v, '--dashboard-port'),
      LOCAL_DEFAULTS.dashboardPort,
    )
    .option(
      '--source <source>',
      "where the events come from: 'simulator', or 'history:PATH' (a Spotify streaming-history export: its zip, folder or JSON file)",
      'simulator',
    )
    .option('--user <id>', 'with --source history: the user id of entries without "username"')
    .option('--once', 'exit after the summary instead of serving until Ctrl-C')
    .option('--json', 'print the summary as one JSON object on stdout')
    .addHelpText(
      'after',
      `
With the same --seed and window, the events are exactly those of \`mds simulate\` with the same flags. Every
hour of the window must be one the workflow's PlanWindow step accepts (on the hour, not in the future): a
window it would refuse stops before anything is produced.

--json prints one object on stdout: window, seed, events.* (produced, valid, distinct, duplicates, late,
invalid, landed, quarantined), bronze.* (records, objects), quarantine.*, warehouse.bronze_rows, silver.rows,
gold.<table> row counts, runs[] (runId, window, status), reconciliation (ok, checks[]), offsets[], top,
stages.<stage> seconds, functions[] (id, logicalId, assetHash: the asset hash of the cloud assembly,
invocations, coldStarts, layers, overrides: the environment variables set locally), mapping (the event source
mapping's template settings, the local ones and which are local overrides), assembly (dir, env) and data.

Exit code: 0 only when every workflow run succeeded and the reconciliation holds; 1 otherwise; 2 for bad
input. A second mds process on the same --data is refused before anything starts.

Without --once the services keep running after the summary: the dashboard is served, the event source
mapping keeps landing whatever is produced (mds produce), and the workflow runs when the environment's
schedule fires (schedule.expression in schedule.timeZone, as the synthesized Pipeline stack holds it; a paused
schedule runs nothing), each run for the hour before its fire time, as the deployed schedule does. The next
fire time and its window are printed. Ctrl-C stops everything.

--source history:PATH runs the pipeline on a streaming-history export instead (docs/streaming-history.md):
the window follows the data, the simulator flags do not apply, and the workflow runs over the hours that hold
events in windows of at most workflow.maxWindowDays.

Examples:
  mds local up --once
  mds local up --once --source history:my_spotify_data.zip --user alice
  mds local up --events 1000000 --invalid-fraction 0.01 --late-fraction 0.02 --duplicate-fraction 0.01 --once --json
`,
    )
    .action(async (flags: UpFlags) => localUp(flags));
}

/** The export's paths of `--source history:PATH`, or undefined for the simulator. */
export function historySource(source: string): string[] | undefined {
  if (source === 'simulator') return undefined;
  if (source.startsWith('history:') && source.length > 'history:'.length)
    return [source.slice('history:'.length)];
  throw new UsageError(
    `--source ${JSON.stringify(source)}: expected 'simulator' or 'history:PATH' (the export's zip, folder or JSON file)`,
  );
}

async function localUp(flags: UpFlags): Promise<void> {
  const paths = historySource(flags.source);
  if (paths) return localUpHistory(flags, paths);
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
  const { runLocalPipeline } = await import('../../../localstack/pipeline/up.ts');
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
    // A failed workflow run throws (exit 1); a mismatch is in the report.
    if (!report.reconciliation.ok) process.exitCode = 1;
    if (flags.once) return;
    await serveUntilSignal(services, lock, flags.dashboardPort);
  });
}

/** `mds local up --source history:PATH`: the export is read first (its window), then imported and run. */
async function localUpHistory(flags: UpFlags, paths: string[]): Promise<void> {
  const now = new Date();
  const { scanHistory, runLocalHistoryPipeline } = await import('../../../localstack/pipeline/history.ts');
  const { floorHour, HOUR_MS } = await import('../../../lambdas/core/window.ts');
  const scanned = await scanHistory({ paths, user: flags.user });
  if (scanned.firstEventTime && scanned.lastEventTime) {
    // Every window the workflow will run must be one PlanWindow accepts: checked before anything is produced.
    assertPlannableWindow(
      {
        start: floorHour(new Date(scanned.firstEventTime)),
        end: new Date(floorHour(new Date(scanned.lastEventTime)).getTime() + HOUR_MS),
      },
      now,
      { start: 'the first event hour of the export', end: 'the hour after its last event' },
    );
  }
  if (!flags.once) await assertDashboardPortFree(flags.dashboardPort);
  const err = process.stderr;
  const say = (line: string) => {
    if (!flags.json || err.isTTY) err.write(`${line}\n`);
  };
  const stages: Record<string, number> = {};
  const t0 = performance.now();
  await withServices(flags, 'mds local up', async (services, lock) => {
    stages.services = round((performance.now() - t0) / 1000);
    say(
      `local services up in ${stages.services}s: broker ${services.broker.bootstrap}, data ${services.paths.root}`,
    );
    let bar: ReturnType<typeof progressBar> | undefined;
    let last = 0;
    const report = await runLocalHistoryPipeline(
      services,
      { paths, user: flags.user },
      scanned,
      {
        stage: (name, phase, seconds) => {
          if (phase === 'start' && name === 'produce') {
            bar = progressBar({ total: scanned.sent, label: 'import', unit: 'events', minTotal: 50_000 });
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
    else {
      const { describeImport } = await import('../../../lambdas/core/spotify/history-import.ts');
      err.write(`\nimport of ${paths.join(', ')}\n${describeImport(report.source.import).join('\n')}\n`);
      err.write(`\n${renderReport(report)}\n`);
    }
    if (!report.reconciliation.ok || report.source.import.refused.length > 0) process.exitCode = 1;
    if (flags.once) return;
    await serveUntilSignal(services, lock, flags.dashboardPort);
  });
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
