/** `mds local up`: the whole pipeline on the embedded default (the main job). */
import type { Command } from 'commander';
import { MdsError, UsageError, errorMessage } from '../../../lambdas/core/errors.ts';
import { LOCAL_DEFAULTS } from '../../../localstack/paths.ts';
import { addSimulationOptions, resolveSimulation, type SimulationFlags } from '../simulate.ts';
import { parsePort, progressBar } from '../cli-util.ts';
import { assertDashboardPortFree, assertPlannableWindow } from '../preflight.ts';
import { renderReport } from './render-report.ts';
import { serveUntilSignal } from './serve.ts';
import { addServiceOptions, withServices, type ServiceFlags } from './services.ts';
import { transitionLine } from './transitions.ts';
import type { PipelineCallbacks } from '../../../localstack/pipeline/up.ts';
import { baseUrlOptions } from '../spotify.ts';
import { SPOTIFY_API_SOURCE_NAME } from '../../../localstack/pipeline/spotify-api.ts';

const LOCAL_UP_EVENTS = 300_000;

interface UpFlags extends SimulationFlags, ServiceFlags {
  readonly source: string;
  readonly apiBaseUrl: string;
  readonly accountsBaseUrl: string;
  readonly user?: string;
  readonly once?: boolean;
  readonly json?: boolean;
  readonly dashboardPort: number;
  readonly dashboardHost: string;
}

export function registerLocalUp(local: Command): void {
  const up = local
    .command('up')
    .description(
      'Start the local broker, S3 server and event source mapping, simulate and produce events, land them in Bronze, ' +
        'run the hourly workflow for every hour, print the reconciled summary, then keep serving the dashboard.',
    );
  addSimulationOptions(up, { events: LOCAL_UP_EVENTS });
  baseUrlOptions(addServiceOptions(up))
    .option(
      '--dashboard-port <port>',
      'dashboard port (0 picks a free port)',
      (v) => parsePort(v, '--dashboard-port'),
      LOCAL_DEFAULTS.dashboardPort,
    )
    .option(
      '--dashboard-host <address>',
      'address the dashboard listens on (0.0.0.0 in a container; env MDS_DASHBOARD_HOST)',
      process.env.MDS_DASHBOARD_HOST || '127.0.0.1',
    )
    .option(
      '--source <source>',
      "where the events come from: 'simulator', 'history:PATH' (a Spotify streaming-history export: its zip, folder or JSON file), or 'spotify-api' (one poll of the connected Spotify users)",
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

--source spotify-api polls every Spotify user connected in --data (mds spotify login --data-dir DIR) once,
with the poller's bundle, into the local broker (--api-base-url, --accounts-base-url: the Spotify servers it
asks), then runs the workflow over the hours of the polled plays (docs/spotify.md). No connected user or an
unreachable API stops before anything is produced; no new plays since the last poll exits 0; an hour that
has not ended is landed but not run.

External services (docs/docker.md): --brokers, --s3-endpoint with --bucket, and --warehouse replace the
local broker, S3 server and DuckDB file (or MDS_BROKERS, MDS_S3_ENDPOINT, MDS_BUCKET, MDS_WAREHOUSE); the
Postgres password comes from PGPASSWORD, S3 credentials from the standard AWS variables or profile. Each is
checked before anything is produced: one line per failure names the endpoint and what to check (exit 1).

Examples:
  mds local up --once
  PGPASSWORD=... mds local up --once --brokers kafka:9092 --s3-endpoint http://s3:8333 --bucket mds-local --warehouse postgres://mds@postgres:5432/mds
  mds local up --once --source history:my_spotify_data.zip --user alice
  mds local up --once --source spotify-api
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
    `--source ${JSON.stringify(source)}: expected 'simulator' or 'history:PATH' (the export's zip, folder or JSON file), or '${SPOTIFY_API_SOURCE_NAME}'`,
  );
}

async function localUp(flags: UpFlags): Promise<void> {
  if (flags.source === SPOTIFY_API_SOURCE_NAME) return localUpSpotifyApi(flags);
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
  const say = sayer(flags);
  const stages: Record<string, number> = {};
  const t0 = performance.now();
  const { runLocalPipeline } = await import('../../../localstack/pipeline/up.ts');
  await withServices(flags, 'mds local up', async (services, lock) => {
    stages.services = round((performance.now() - t0) / 1000);
    say(
      `local services up in ${stages.services}s: broker ${services.broker.bootstrap}, S3 ${services.s3Server.endpoint}, data ${services.paths.root}`,
    );
    const report = await runLocalPipeline(
      services,
      simulation,
      progressCallbacks(say, { total: simulation.events, label: 'produce' }),
      stages,
    );
    stages.total = round((performance.now() - t0) / 1000);
    if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else err.write(`\n${renderReport(report)}\n`);
    // A failed workflow run throws (exit 1); a mismatch is in the report.
    if (!report.reconciliation.ok) process.exitCode = 1;
    if (flags.once) return;
    await serveUntilSignal(services, lock, flags.dashboardPort, flags.dashboardHost);
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
  const say = sayer(flags);
  const stages: Record<string, number> = {};
  const t0 = performance.now();
  await withServices(flags, 'mds local up', async (services, lock) => {
    stages.services = round((performance.now() - t0) / 1000);
    say(
      `local services up in ${stages.services}s: broker ${services.broker.bootstrap}, data ${services.paths.root}`,
    );
    const report = await runLocalHistoryPipeline(
      services,
      { paths, user: flags.user },
      scanned,
      progressCallbacks(say, { total: scanned.sent, label: 'import' }),
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
    await serveUntilSignal(services, lock, flags.dashboardPort, flags.dashboardHost);
  });
}

/**
 * `mds local up --source spotify-api`: checked first (a connected user in --data, both Spotify servers
 * answering), then one poll by the poller's bundle into the local broker, and the pipeline over its plays.
 */
async function localUpSpotifyApi(flags: UpFlags): Promise<void> {
  const { checkUrl, describePoll, startLocalPoller } = await import('../spotify.ts');
  const { FileTokenStore, localSpotifyPaths } = await import('../../../lambdas/poller/stores.ts');
  const { runLocalSpotifyApiPipeline } = await import('../../../localstack/pipeline/spotify-api.ts');
  const api = checkUrl(flags.apiBaseUrl, '--api-base-url');
  const accounts = checkUrl(flags.accountsBaseUrl, '--accounts-base-url');
  const tokensFile = localSpotifyPaths(flags.data).tokens;
  if ((await new FileTokenStore(tokensFile).users()).length === 0) {
    throw new UsageError(
      `--source spotify-api: no Spotify user is connected in ${tokensFile}; connect one with: mds spotify login --data-dir ${flags.data}`,
    );
  }
  await assertReachable(api, '/v1/me', 'the Spotify Web API', '--api-base-url (env SPOTIFY_API_BASE_URL)');
  await assertReachable(
    accounts,
    '/api/token',
    'the Spotify Accounts service',
    '--accounts-base-url (env SPOTIFY_ACCOUNTS_BASE_URL)',
  );
  if (!flags.once) await assertDashboardPortFree(flags.dashboardPort);
  const err = process.stderr;
  const say = sayer(flags);
  const stages: Record<string, number> = {};
  const t0 = performance.now();
  await withServices(flags, 'mds local up', async (services, lock) => {
    stages.services = round((performance.now() - t0) / 1000);
    say(
      `local services up in ${stages.services}s: broker ${services.broker.bootstrap}, data ${services.paths.root}`,
    );
    const result = await runLocalSpotifyApiPipeline(
      services,
      {
        apiBaseUrl: api,
        poll: async () => {
          const poller = await startLocalPoller({
            apiBaseUrl: api,
            accountsBaseUrl: accounts,
            brokers: services.broker.bootstrap,
            dataDir: services.paths.root,
            assembly: services.assembly,
          });
          try {
            const summary = await poller.poll();
            return { summary, report: poller.report() };
          } finally {
            await poller.close();
          }
        },
      },
      progressCallbacks(say),
      stages,
    );
    const poll = result.source.poll;
    const failures = poll.invalidGrant + poll.failed;
    if (poll.polled === 0 && failures > 0) {
      // Nobody could be polled: nothing was produced; the first user's message says why and what to do.
      const first = poll.results.find((r) => r.status !== 'polled');
      const fix =
        first?.status === 'invalid_grant'
          ? ' Reconnect with: mds spotify login.'
          : ' Check --api-base-url / --accounts-base-url and the connected users (mds spotify login).';
      throw new MdsError(
        `--source spotify-api: no user could be polled (${first?.message ?? first?.status}).${fix}`,
      );
    }
    if (!flags.json) err.write(`\n${describePoll(poll)}`);
    if ('plays' in result) {
      if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else err.write(`no new plays since the last poll of ${poll.polled} user(s): nothing to land or run\n`);
      if (failures > 0) process.exitCode = 1;
      return;
    }
    stages.total = round((performance.now() - t0) / 1000);
    if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      if (result.source.pending.plays > 0)
        err.write(
          `${result.source.pending.plays} play(s) in ${result.source.pending.hours.join(', ')}: landed, not run until that hour has ended\n`,
        );
      err.write(`\n${renderReport(result)}\n`);
    }
    if (!result.reconciliation.ok || failures > 0) process.exitCode = 1;
    if (flags.once) return;
    await serveUntilSignal(services, lock, flags.dashboardPort, flags.dashboardHost);
  });
}

/** Any HTTP answer from `base + probe` (even an error status) means the server is reachable. */
async function assertReachable(base: string, probe: string, what: string, setting: string): Promise<void> {
  try {
    const res = await fetch(`${base}${probe}`, { signal: AbortSignal.timeout(10_000) });
    await res.body?.cancel();
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? errorMessage(err);
    throw new UsageError(
      `--source spotify-api: ${what} at ${base} is unreachable (${cause}); set ${setting} to a server that answers`,
    );
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Progress goes to stderr, and with --json only when stderr is a terminal (stdout holds the JSON). */
function sayer(flags: UpFlags): (line: string) => void {
  return (line) => {
    if (!flags.json || process.stderr.isTTY) process.stderr.write(`${line}\n`);
  };
}

/**
 * The progress of a local run: each stage's start and end, each workflow transition, and, when `produce`
 * is given, a bar while its events are produced.
 */
function progressCallbacks(
  say: (line: string) => void,
  produce?: { readonly total: number; readonly label: string },
): PipelineCallbacks {
  let bar: ReturnType<typeof progressBar> | undefined;
  let last = 0;
  return {
    stage: (name, phase, seconds) => {
      if (phase === 'start' && name === 'produce' && produce) {
        bar = progressBar({ total: produce.total, label: produce.label, unit: 'events', minTotal: 50_000 });
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
  };
}
