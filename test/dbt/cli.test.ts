import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, localPaths } from '../../localstack/paths.ts';
import { bronzeRows, createBronze, insertBronze } from './dataset.ts';

const run = promisify(execFile);
const MDS = path.join(PROJECT_ROOT, 'bin', 'mds.mjs');

async function mds(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MDS, ...args], { cwd: PROJECT_ROOT });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('mds dbt', () => {
  let data: string;

  beforeAll(async () => {
    // Prepare: a local data directory whose warehouse.duckdb holds Bronze.
    data = await mkdtemp(path.join(os.tmpdir(), 'mds-dbt-cli-'));
    const instance = await DuckDBInstance.create(localPaths(data).warehouse);
    const connection = await instance.connect();
    await createBronze(connection);
    const { rows } = bronzeRows({
      seed: 5,
      events: 1_500,
      start: new Date('2026-08-01T00:00:00Z'),
      end: new Date('2026-08-01T04:00:00Z'),
      users: 20,
      songs: 60,
    });
    await insertBronze(connection, rows);
    connection.closeSync();
    instance.closeSync();
  });
  afterAll(async () => rm(data, { recursive: true, force: true }));

  /** Runs one statement on the data directory's warehouse (no mds process holds it between commands). */
  async function onWarehouse(sql: string): Promise<void> {
    const instance = await DuckDBInstance.create(localPaths(data).warehouse);
    const connection = await instance.connect();
    try {
      await connection.run(sql);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  }

  it('build runs the project on the data directory warehouse, prints dbt-like progress and exits 0', async () => {
    const target = path.join(data, 'target');
    const { code, stdout } = await mds(
      'dbt',
      'build',
      '--data',
      data,
      '--target-dir',
      target,
      '--runner',
      'embedded',
    );
    expect(stdout).toMatch(/OK created sql incremental model silver\.stg_spotify__events/);
    expect(stdout).toMatch(/Done\. PASS=\d+ WARN=0 ERROR=0 SKIP=0 TOTAL=\d+/);
    expect(code).toBe(0);
    const runResults = JSON.parse(await readFile(path.join(target, 'run_results.json'), 'utf8')) as {
      results: unknown[];
    };
    expect(runResults.results.length).toBeGreaterThan(50);
  });

  it('exits 1 when a test fails and 2 on bad flags', async () => {
    // Prepare: a duplicate planted in a mart built by the previous test.
    await onWarehouse('insert into gold.plays_per_hour select * from gold.plays_per_hour limit 1');
    // Act
    const failing = await mds(
      'dbt',
      'test',
      '--data',
      data,
      '--select',
      'plays_per_hour',
      '--vars',
      '{x: 1}',
      '--runner',
      'embedded',
      '--target-dir',
      path.join(data, 't2'),
    );
    const bad = await mds('dbt', 'run', '--data', data, '--runner', 'nope');
    // Assess
    expect(failing.stdout).toMatch(/Failure in test unique_plays_per_hour_hour_start/);
    expect(failing.code).toBe(1);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--runner: expected auto, embedded or dbt');
    // Clean up: an incremental build rebuilds only what new rows touch, so the planted duplicate would stay
    // for the next test's build (and fail it, as a mart edited by hand should).
    await onWarehouse(
      'create or replace table gold.plays_per_hour as select distinct * from gold.plays_per_hour',
    );
  });

  it('--threads runs nodes on that many threads, --fail-fast skips what the first failure left, bad --threads exits 2', async () => {
    const results = async (dir: string) =>
      (
        JSON.parse(await readFile(path.join(dir, 'run_results.json'), 'utf8')) as {
          results: { unique_id: string; status: string; thread_id: string }[];
        }
      ).results;
    const threaded = path.join(data, 't-threads');
    const two = await mds(
      'dbt',
      'build',
      '--data',
      data,
      '--runner',
      'embedded',
      '--threads',
      '2',
      '--target-dir',
      threaded,
    );
    expect(two.code, two.stderr + two.stdout).toBe(0);
    expect(new Set((await results(threaded)).map((r) => r.thread_id)).size).toBe(2);
    // A duplicate planted in Silver fails its unique test; with --fail-fast nothing after it runs.
    await onWarehouse(
      'insert into silver.stg_spotify__events select * from silver.stg_spotify__events limit 1',
    );
    const fast = path.join(data, 't-fail-fast');
    const failing = await mds(
      'dbt',
      'test',
      '--data',
      data,
      '--runner',
      'embedded',
      '--fail-fast',
      '--target-dir',
      fast,
    );
    expect(failing.code).toBe(1);
    const statuses = (await results(fast)).map((r) => r.status);
    expect(statuses).toContain('fail');
    expect(statuses).toContain('skipped');
    for (const bad of ['0', '1.5', 'two']) {
      const res = await mds('dbt', 'build', '--data', data, '--runner', 'embedded', '--threads', bad);
      expect(res.code, bad).toBe(2);
      expect(res.stderr).toContain(`--threads: expected a whole number of at least 1, got "${bad}"`);
    }
  }, 240_000);

  it('a --select that matches nothing warns in dbt words, runs nothing and exits 0, as dbt does', async () => {
    const target = path.join(data, 't3');
    const res = await mds(
      'dbt',
      'build',
      '--data',
      data,
      '--select',
      'nosuchmodel',
      '--runner',
      'embedded',
      '--target-dir',
      target,
    );
    // dbt 1.10 (`dbt build -s nosuchmodel`): a warning naming the criterion, "Nothing to do", exit 0.
    expect(res.stdout).toMatch(
      /\[WARNING\]: The selection criterion 'nosuchmodel' does not match any enabled nodes/,
    );
    expect(res.stdout).toMatch(/Nothing to do/);
    expect(res.code).toBe(0);
    expect(res.stdout).not.toMatch(/START/);
    // A union with a name that exists still names the one that does not, and runs the one that does.
    const union = await mds(
      'dbt',
      'run',
      '--data',
      data,
      '-s',
      'plays_per_hour',
      '+nosuch',
      '--runner',
      'embedded',
    );
    expect(union.stdout).toMatch(/The selection criterion '\+nosuch' does not match any enabled nodes/);
    expect(union.stdout).toMatch(/START sql incremental model gold.plays_per_hour/);
  });
});
