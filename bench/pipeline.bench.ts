/**
 * `mds local up --once` on 1,000,000 events (with 1% duplicates, 2% late, 0.5% invalid): the whole local
 * pipeline's wall time and each stage's. Target: under 60 s. Runs the real CLI in a child process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../localstack/paths.ts';

const EVENTS = Number(process.env.BENCH_PIPELINE_EVENTS ?? 1_000_000);

export default async function (): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'mds-bench-pipeline-'));
  try {
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
        String(EVENTS),
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
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const wall = (performance.now() - t0) / 1000;
    if (res.status !== 0) throw new Error(`mds local up failed (${res.status}): ${res.stderr.slice(-2000)}`);
    const report = JSON.parse(res.stdout) as {
      stages: Record<string, number>;
      reconciliation: { ok: boolean };
      silver: { rows: number };
    };
    console.log(`mds local up --once, ${EVENTS.toLocaleString('en-US')} events`);
    for (const [stage, seconds] of Object.entries(report.stages))
      console.log(`  ${stage.padEnd(10)} ${seconds.toFixed(2).padStart(7)} s`);
    console.log(
      `  wall time (process, incl. start-up) ${wall.toFixed(1)} s; target < 60 s: ${wall < 60 ? 'met' : 'NOT met'}`,
    );
    console.log(
      `  throughput end to end ${Math.round(EVENTS / wall).toLocaleString('en-US')} events/s; reconciliation ${report.reconciliation.ok ? 'OK' : 'MISMATCH'}; silver rows ${report.silver.rows.toLocaleString('en-US')}`,
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
