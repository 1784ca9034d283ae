/**
 * `mds local up` killed in the middle of a run, then run again on the same data directory: the records of
 * the killed run are on the topic and partly in Bronze, and the consumer lands some of them again after the
 * restart. The re-run counts its own records by their offsets, so it reconciles; the comparison of the
 * simulation with Silver is reported as skipped (the window held the killed run's events), never dropped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../localstack/paths.ts';
import { SIMULATED_SILVER_CHECK, type PipelineReport } from '../../localstack/pipeline/up.ts';

const EVENTS = 60_000;
/** The run to kill prints its stages on stderr; the re-run prints its report as JSON on stdout. */
const args = (data: string, json: boolean) => [
  path.join(PROJECT_ROOT, 'bin/mds.mjs'),
  'local',
  'up',
  '--once',
  ...(json ? ['--json'] : []),
  '--events',
  String(EVENTS),
  '--start',
  '2026-11-20T00:00:00Z',
  '--end',
  '2026-11-20T02:00:00Z',
  '--invalid-fraction',
  '0.01',
  '--duplicate-fraction',
  '0.01',
  '--data',
  data,
  '--broker-port',
  '0',
  '--s3-port',
  '0',
];

let dataDir: string;
let child: ChildProcess | undefined;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'mds-crash-'));
});
afterAll(async () => {
  if (child?.pid && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

/** Files under a directory, recursively (the S3 server and the broker keep plain files). */
async function files(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  }
  return out;
}

/** Starts `mds local up` and kills it (SIGKILL) as soon as `ready` holds, polled until a deadline. */
async function killWhen(ready: (stderr: string) => Promise<boolean>): Promise<string> {
  const proc = spawn(process.execPath, args(dataDir, false), { stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout!.resume();
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`mds local up ended before it could be killed:\n${stderr}`);
    if (await ready(stderr)) break;
    if (Date.now() > deadline) throw new Error(`the run never got to the point to kill it:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  proc.kill('SIGKILL');
  await exited;
  return stderr;
}

function rerun(): PipelineReport {
  const res = spawnSync(process.execPath, args(dataDir, true), { encoding: 'utf8', timeout: 240_000 });
  if (res.status !== 0 && !res.stdout.trim()) throw new Error(`the re-run failed:\n${res.stderr}`);
  return JSON.parse(res.stdout.trim().split('\n').at(-1)!) as PipelineReport;
}

function expectReconciled(report: PipelineReport): void {
  const failed = report.reconciliation.checks.filter((c) => !c.ok);
  expect(failed).toEqual([]);
  expect(report.reconciliation.ok).toBe(true);
  expect(report.events.produced).toBe(EVENTS);
  expect(report.events.landed + report.events.quarantined).toBe(EVENTS);
  expect(report.events.quarantined).toBe(report.events.invalid);
  expect(report.offsets.reduce((n, o) => n + o.end - o.first, 0)).toBe(EVENTS);
  // The killed run's records are on the topic before this run's.
  expect(report.offsets.some((o) => o.first > 0)).toBe(true);
  const simulated = report.reconciliation.checks.find((c) => c.name.startsWith(SIMULATED_SILVER_CHECK));
  expect(simulated?.skipped).toMatch(
    /^the window holds [\d,]+ Bronze objects \([\d,]+ records\) with records produced before this run/,
  );
  expect(report.runs.every((r) => r.status === 'SUCCEEDED')).toBe(true);
}

describe('mds local up after a run killed mid-way', () => {
  it('reconciles when the earlier run was killed while producing', async () => {
    // Prepare: kill the run once the broker holds some of its records, before anything is landed.
    const brokerBytes = async () => {
      let n = 0;
      for (const f of await files(path.join(dataDir, 'broker'))) n += (await stat(f)).size;
      return n;
    };
    const stderr = await killWhen(
      async (err) => err.includes('▶ produce') && (await brokerBytes()) > 1_000_000,
    );
    expect(stderr).not.toContain('✔ produce');

    // Act
    const report = rerun();

    // Assess
    expectReconciled(report);
  }, 300_000);

  it('reconciles when the earlier run was killed while landing', async () => {
    // Prepare: kill the next run once its consumer has written new Bronze objects, before landing ends.
    const bronze = async () =>
      (await files(path.join(dataDir, 's3'))).filter((f) => f.includes(`${path.sep}bronze${path.sep}`))
        .length;
    const before = await bronze();
    const stderr = await killWhen(async (err) => err.includes('▶ land') && (await bronze()) > before);
    expect(stderr).not.toContain('✔ land');

    // Act
    const report = rerun();

    // Assess
    expectReconciled(report);
  }, 300_000);
});
