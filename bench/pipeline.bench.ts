/**
 * `mds local up --once` on 1,000,000 events (with 1% duplicates, 2% late, 0.5% invalid): the whole local
 * pipeline's wall time and each stage's (the workflow's also by state: LoadBronze, RunDbt, ...), median of
 * RUNS runs, against `mds simulate --events N --out /dev/null` timed in the same bench run (alternating, so
 * both see the same machine), and the peak RSS of the command (every thread: broker, functions, DuckDB;
 * `mds local up` relaunches itself, bin/relaunch.mjs, so the sum of both processes' peaks) at 1M and at
 * LARGE events. Targets: median ≤ 25 s, ≤ 6x simulate, peak RSS under 1 GiB at both sizes. Runs the real
 * CLI in child processes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../localstack/paths.ts';

const EVENTS = Number(process.env.BENCH_PIPELINE_EVENTS ?? 1_000_000);
const LARGE = Number(process.env.BENCH_PIPELINE_LARGE_EVENTS ?? 5_000_000);
const RUNS = Number(process.env.BENCH_PIPELINE_RUNS ?? 3);
const GIB_KIB = 1024 * 1024;

const median = (xs: readonly number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

interface Measured {
  readonly wall: number;
  /**
   * Peak resident set size of the child, KiB: with a command that relaunches itself (bin/relaunch.mjs), the
   * sum of both processes' peaks (an upper bound of what they held at once).
   */
  readonly maxRss: number;
  /** Each process's peak, KiB: the one started first, then the relaunched one. */
  readonly peaks: readonly number[];
  readonly stdout: string;
}

/** Runs `mds <args>` in a child process with the peak-RSS preload; its wall time and peak RSS. */
async function mds(args: readonly string[], dir: string): Promise<Measured> {
  const rssFile = path.join(dir, `rss-${Date.now()}`);
  const t0 = performance.now();
  const res = spawnSync(
    process.execPath,
    [
      '--import',
      path.join(PROJECT_ROOT, 'bench/max-rss.mjs'),
      path.join(PROJECT_ROOT, 'bin/mds.mjs'),
      ...args,
    ],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, MDS_BENCH_RSS_FILE: rssFile },
    },
  );
  const wall = (performance.now() - t0) / 1000;
  if (res.status !== 0) throw new Error(`mds ${args[0]} failed (${res.status}): ${res.stderr.slice(-2000)}`);
  // One line per process, `pid maxRSS`, written as each exits: the relaunched child first.
  const peaks = (await readFile(rssFile, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => Number(line.split(' ')[1]))
    .reverse();
  return { wall, maxRss: peaks.reduce((a, b) => a + b, 0), peaks, stdout: res.stdout };
}

async function localUp(events: number, dir: string): Promise<LocalUp> {
  const dataDir = await mkdtemp(path.join(dir, 'data-'));
  try {
    const m = await mds(
      [
        'local',
        'up',
        '--once',
        '--json',
        '--events',
        String(events),
        '--duplicate-fraction',
        '0.01',
        '--late-fraction',
        '0.02',
        '--invalid-fraction',
        '0.005',
        '--data',
        dataDir,
        '--broker-port',
        '0',
        '--s3-port',
        '0',
      ],
      dir,
    );
    const report = JSON.parse(m.stdout) as Report;
    if (!report.reconciliation.ok) throw new Error(`mds local up at ${events} events did not reconcile`);
    return { ...m, report, steps: await workflowSteps(report) };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

interface Report {
  stages: Record<string, number>;
  reconciliation: { ok: boolean };
  silver: { rows: number };
  runs: { runId: string }[];
  data: { runs: string };
}

/**
 * The workflow stage split by state (LoadBronze, RunDbt, Reconcile, ...), summed over the hourly runs: the
 * step seconds each run's summary keeps (read before the data directory goes).
 */
async function workflowSteps(report: Report): Promise<Record<string, number>> {
  const steps: Record<string, number> = {};
  for (const run of report.runs) {
    const summary = JSON.parse(
      await readFile(path.join(report.data.runs, run.runId, 'summary.json'), 'utf8'),
    ) as { stepSeconds?: Record<string, number> };
    for (const [state, s] of Object.entries(summary.stepSeconds ?? {}))
      steps[state] = (steps[state] ?? 0) + s;
  }
  return steps;
}

type LocalUp = Measured & { report: Report; steps: Record<string, number> };

/** `name 1.23 s [runs]` lines: the median of each key over the runs, and every run's figure. */
function printMedians(runs: readonly Record<string, number>[], indent: string): void {
  for (const key of Object.keys(runs[0] ?? {})) {
    const xs = runs.map((r) => r[key] ?? NaN);
    console.log(
      `${indent}${key.padEnd(14)} ${median(xs).toFixed(2).padStart(7)} s  [${xs.map((x) => x.toFixed(2)).join(', ')}]`,
    );
  }
}

const mib = (kib: number): string => `${Math.round(kib / 1024).toLocaleString('en-US')} MiB`;
/** `1,000 MiB (41 + 959)`: the sum and, when the command relaunched itself, each process's peak. */
const peak = (m: Measured): string =>
  m.peaks.length > 1
    ? `${mib(m.maxRss)} (${m.peaks.map((k) => Math.round(k / 1024)).join(' + ')})`
    : mib(m.maxRss);

export default async function (): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mds-bench-pipeline-'));
  try {
    const up: LocalUp[] = [];
    const sim: Measured[] = [];
    for (let i = 0; i < RUNS; i++) {
      sim.push(await mds(['simulate', '--events', String(EVENTS), '--out', '/dev/null'], dir));
      up.push(await localUp(EVENTS, dir));
    }
    const wall = median(up.map((u) => u.wall));
    const simWall = median(sim.map((s) => s.wall));
    console.log(`mds local up --once, ${EVENTS.toLocaleString('en-US')} events, ${RUNS} runs (medians)`);
    printMedians(
      up.map((u) => u.report.stages),
      '  ',
    );
    console.log('  workflow by state, summed over the hourly runs:');
    printMedians(
      up.map((u) => u.steps),
      '    ',
    );
    console.log(
      `  wall time (process, incl. start-up) ${wall.toFixed(1)} s [${up.map((u) => u.wall.toFixed(1)).join(', ')}]; target ≤ 25 s: ${wall <= 25 ? 'met' : 'NOT met'}`,
    );
    const ratio = wall / simWall;
    console.log(
      `  mds simulate --events ${EVENTS} --out /dev/null ${simWall.toFixed(1)} s; ratio ${ratio.toFixed(1)}x (target ≤ 6x: ${ratio <= 6 ? 'met' : 'NOT met'})`,
    );
    const rss = median(up.map((u) => u.maxRss));
    console.log(
      `  peak RSS ${mib(rss)} [${up.map(peak).join(', ')}]; under 1 GiB: ${rss < GIB_KIB ? 'yes' : 'NO'}; silver rows ${up[0]?.report.silver.rows.toLocaleString('en-US')}`,
    );
    if (LARGE > 0) {
      const large = await localUp(LARGE, dir);
      const stages = Object.entries({ ...large.report.stages, ...large.steps })
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', ');
      console.log(
        `mds local up --once, ${LARGE.toLocaleString('en-US')} events: wall ${large.wall.toFixed(1)} s (${stages}); peak RSS ${peak(large)}; under 1 GiB: ${large.maxRss < GIB_KIB ? 'yes' : 'NO'}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
