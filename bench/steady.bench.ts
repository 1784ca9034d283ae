/**
 * `npm run bench -- steady`: a deployment that has run every hour for a month. The first hour of a fresh
 * deployment (`mds local up --once` over one hour of HOUR_EVENTS events on an empty data directory) against
 * the same hour after a month of history: 720 hours of HOUR_EVENTS events loaded into Bronze in bulk and
 * built into Silver and Gold once (what 720 hourly runs would have left), then the hour through the whole
 * pipeline. The sides alternate, RUNS times each, each run on a copy of its starting state; prints the medians of the hourly
 * workflow run's steps and of the run as a whole, and the ratio (target: within 1.5x).
 *
 * `BENCH_STEADY_SWEEP=1 npm run bench -- steady`: how each step grows with the history and with the hour's
 * volume: the hour after 0, 168 and 720 hours of history, at 2,000 and 10,000 events an hour (one run a cell
 * unless BENCH_STEADY_RUNS says more); prints a Markdown table of the medians.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDuckDbWarehouse } from '../lambdas/core/warehouse/duckdb.ts';
import { runDbt } from '../localstack/dbt/index.ts';
import { PROJECT_ROOT, localPaths } from '../localstack/paths.ts';
import { bronzeRowStream, insertBronze } from '../test/dbt/dataset.ts';

const HOUR_EVENTS = Number(process.env.BENCH_STEADY_HOUR_EVENTS ?? 2_000);
const HISTORY_HOURS = Number(process.env.BENCH_STEADY_HOURS ?? 720);
const RUNS = Number(process.env.BENCH_STEADY_RUNS ?? 3);
const HOUR_MS = 3_600_000;
/** One seed for the history and the hour: the same world (catalog, listeners and their countries); the event
 * ids differ because the simulator draws them from the seed and the window's start. */
const SEED = 7;

const median = (xs: readonly number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

interface HourRun {
  readonly wall: number;
  readonly workflow: number;
  readonly steps: Record<string, number>;
}

/** One `mds local up --once` over the hour on `dataDir`; the workflow run's step seconds. */
async function runHour(dataDir: string, hourStart: Date, events = HOUR_EVENTS): Promise<HourRun> {
  const t0 = performance.now();
  const res = spawnSync(
    process.execPath,
    [
      path.join(PROJECT_ROOT, 'bin/mds.mjs'),
      'local',
      'up',
      '--once',
      '--json',
      '--events',
      String(events),
      '--start',
      hourStart.toISOString(),
      '--end',
      new Date(hourStart.getTime() + HOUR_MS).toISOString(),
      '--duplicate-fraction',
      '0.01',
      '--seed',
      String(SEED),
      '--data',
      dataDir,
      '--broker-port',
      '0',
      '--s3-port',
      '0',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const wall = (performance.now() - t0) / 1000;
  if (res.status !== 0) throw new Error(`mds local up failed (${res.status}): ${res.stderr.slice(-2000)}`);
  const report = JSON.parse(res.stdout) as {
    stages: Record<string, number>;
    runs: { runId: string }[];
    reconciliation: { ok: boolean };
  };
  if (!report.reconciliation.ok) throw new Error(`the run on ${dataDir} did not reconcile`);
  const runId = report.runs.at(-1)?.runId ?? '';
  const summary = JSON.parse(
    await readFile(path.join(localPaths(dataDir).runs, runId, 'summary.json'), 'utf8'),
  ) as { stepSeconds: Record<string, number> };
  return { wall, workflow: report.stages.workflow ?? NaN, steps: summary.stepSeconds };
}

/** `hours` of history in the warehouse of `dataDir`: Bronze in bulk, then one build of Silver and Gold. */
async function history(
  dataDir: string,
  end: Date,
  hours = HISTORY_HOURS,
  hourEvents = HOUR_EVENTS,
): Promise<{ rows: number; seconds: number }> {
  const t0 = performance.now();
  const wh = await openDuckDbWarehouse({ path: localPaths(dataDir).warehouse });
  try {
    await wh.ensureBronze();
    const rows = await insertBronze(
      wh.connection,
      bronzeRowStream(
        {
          seed: SEED,
          events: hourEvents * hours,
          start: new Date(end.getTime() - hours * HOUR_MS),
          end,
          duplicateFraction: 0.01,
        },
        false,
      ),
    );
    const built = await runDbt({
      projectDir: path.join(PROJECT_ROOT, 'dbt'),
      connection: wh.connection,
      connect: wh.connect,
      command: 'build',
      targetDir: path.join(dataDir, 'dbt-target'),
    });
    if (!built.success) throw new Error('the history build failed');
    return { rows, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await wh.close();
  }
}

/** Runs the hour RUNS times on each side, alternating, each on a fresh copy of the side's starting state. */
async function alternate(
  seed: string,
  root: string,
  hour: Date,
): Promise<{ first: HourRun[]; after: HourRun[] }> {
  const first: HourRun[] = [];
  const after: HourRun[] = [];
  for (let i = 0; i < RUNS; i++) {
    const fresh = path.join(root, `first-${i}`);
    first.push(await runHour(fresh, hour));
    await rm(fresh, { recursive: true, force: true });
    const copy = path.join(root, `after-${i}`);
    await cp(seed, copy, { recursive: true });
    after.push(await runHour(copy, hour));
    await rm(copy, { recursive: true, force: true });
  }
  return { first, after };
}

function print(label: string, runs: readonly HourRun[]): void {
  // The Pass and Succeed states take no time; the Task states are the steps.
  const steps = Object.keys(runs[0]?.steps ?? {}).filter((s) => runs.some((r) => (r.steps[s] ?? 0) >= 0.01));
  const cell = (xs: number[]) => `${median(xs).toFixed(2)} s`;
  console.log(
    `  ${label}: workflow run ${cell(runs.map((r) => r.workflow))} [${runs.map((r) => r.workflow.toFixed(2)).join(', ')}], local up wall ${cell(runs.map((r) => r.wall))}`,
  );
  console.log(
    `    steps: ${steps.map((s) => `${s} ${cell(runs.map((r) => r.steps[s] ?? NaN))}`).join(', ')}`,
  );
}

/** The sweep: the hour's steps after 0, 168 and 720 hours of history, at two hourly volumes. */
async function sweep(root: string, hour: Date): Promise<void> {
  const histories = [0, 168, 720];
  const volumes = [2_000, 10_000];
  const runs = Number(process.env.BENCH_STEADY_RUNS ?? 1);
  const rows: string[] = [];
  let steps: string[] = [];
  for (const hours of histories) {
    const seed = path.join(root, `history-${hours}`);
    if (hours > 0) {
      const h = await history(seed, hour, hours, HOUR_EVENTS);
      await rm(path.join(seed, 'dbt-target'), { recursive: true, force: true });
      console.log(
        `  history of ${hours} h: ${h.rows.toLocaleString('en-US')} Bronze rows (${h.seconds.toFixed(1)} s, setup)`,
      );
    }
    for (const events of volumes) {
      const measured: HourRun[] = [];
      for (let i = 0; i < runs; i++) {
        const dir = path.join(root, `run-${hours}-${events}-${i}`);
        if (hours > 0) await cp(seed, dir, { recursive: true });
        measured.push(await runHour(dir, hour, events));
        await rm(dir, { recursive: true, force: true });
      }
      if (steps.length === 0) {
        steps = Object.keys(measured[0]?.steps ?? {}).filter((s) =>
          measured.some((r) => (r.steps[s] ?? 0) >= 0.01),
        );
      }
      const cells = steps.map((s) => median(measured.map((r) => r.steps[s] ?? NaN)).toFixed(2));
      rows.push(
        `| ${hours} h (${(hours * HOUR_EVENTS).toLocaleString('en-US')} events) | ${events.toLocaleString('en-US')} | ${cells.join(' | ')} | ${median(measured.map((r) => r.workflow)).toFixed(2)} |`,
      );
      console.log(`  ${rows.at(-1)}`);
    }
    await rm(seed, { recursive: true, force: true });
  }
  console.log(`\n| history before the hour | events in the hour | ${steps.join(' | ')} | workflow run |`);
  console.log(`| --- | --- | ${steps.map(() => '---').join(' | ')} | --- |`);
  for (const r of rows) console.log(r);
}

export default async function (): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'mds-bench-steady-'));
  try {
    // The last whole hour: the workflow refuses a window in the future.
    const hour = new Date(Math.floor(Date.now() / HOUR_MS) * HOUR_MS - HOUR_MS);
    if (process.env.BENCH_STEADY_SWEEP) {
      console.log(
        `sweep: step seconds of one hourly run by history and hourly volume (${hour.toISOString()})`,
      );
      await sweep(root, hour);
      return;
    }
    console.log(
      `one hour of ${HOUR_EVENTS.toLocaleString('en-US')} events (${hour.toISOString()}), ${RUNS} run(s) per side`,
    );
    const seed = path.join(root, 'history');
    const h = await history(seed, hour);
    // The month's warehouse without its dbt target: each run starts where the history left off.
    await rm(path.join(seed, 'dbt-target'), { recursive: true, force: true });
    console.log(
      `history: ${HISTORY_HOURS} hours, ${h.rows.toLocaleString('en-US')} Bronze rows loaded in bulk and built in ${h.seconds.toFixed(1)} s (setup, not measured)`,
    );
    const { first, after } = await alternate(seed, root, hour);
    print('first hour (empty warehouse)', first);
    print(`the same hour after ${HISTORY_HOURS} hours of history`, after);
    const ratio = median(after.map((r) => r.workflow)) / median(first.map((r) => r.workflow));
    const dbtRatio =
      median(after.map((r) => r.steps.RunDbt ?? NaN)) / median(first.map((r) => r.steps.RunDbt ?? NaN));
    console.log(
      `  ratio, workflow run after a month / first hour: ${ratio.toFixed(2)} (target ≤ 1.5: ${ratio <= 1.5 ? 'met' : 'NOT met'}); RunDbt alone ${dbtRatio.toFixed(2)}`,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
