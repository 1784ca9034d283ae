/**
 * The embedded runner's threads: independent nodes run at once (each on a connection of its own), a node
 * starts only after what it waits for, a failure skips its dependents only, --fail-fast stops the run, and
 * the number of threads comes from profiles.yml. Concurrency is read from the order of the progress lines and
 * from run_results, never from how long anything took: with two threads both ready models are started
 * before either can finish, as the scheduler takes every ready node there is a thread for at once.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { runDbt, type DbtRunOptions, type RunResult } from '../../localstack/dbt/index.ts';
import { bronzeRows, insertBronze } from './dataset.ts';
import { DBT_PROJECT } from './helpers.ts';

const PROJECT: Readonly<Record<string, string>> = {
  'dbt_project.yml':
    "name: thr\nversion: '1.0.0'\nconfig-version: 2\nprofile: thr\nmodels:\n  thr:\n    +materialized: table\n",
  'macros/generate_schema_name.sql':
    '{% macro generate_schema_name(custom_schema_name, node) -%}{{ target.schema }}{%- endmacro %}',
  'models/a.sql': 'select 1 as id',
  'models/b.sql': 'select 2 as id',
  'models/c.sql': "select * from {{ ref('a') }} union all select * from {{ ref('b') }}",
  'models/schema.yml':
    'version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        data_tests: [not_null]\n',
};

interface Sandbox {
  readonly dir: string;
  readonly lines: string[];
  run(options?: Partial<DbtRunOptions>): ReturnType<typeof runDbt>;
  close(): Promise<void>;
}

let box: Sandbox | undefined;
afterEach(async () => box?.close());

async function sandbox(files: Readonly<Record<string, string>> = {}): Promise<Sandbox> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dbt-threads-'));
  const project = path.join(dir, 'project');
  for (const [file, text] of Object.entries({ ...PROJECT, ...files })) {
    await mkdir(path.dirname(path.join(project, file)), { recursive: true });
    await writeFile(path.join(project, file), text);
  }
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const lines: string[] = [];
  box = {
    dir,
    lines,
    run: (options = {}) =>
      runDbt({
        projectDir: project,
        connection,
        connect: () => instance.connect(),
        command: 'build',
        targetDir: path.join(dir, 'target'),
        log: (l) => lines.push(l.slice(10)),
        ...options,
      }),
    close: async () => {
      connection.closeSync();
      instance.closeSync();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return box;
}

/** Position of the first progress line with this verb for a node, e.g. at('START', 'thr.a'). */
const at = (lines: readonly string[], verb: string, relation: string): number =>
  lines.findIndex((l) => l.includes(` ${verb} `) && l.includes(relation));

const byId = (results: readonly RunResult[]): Record<string, RunResult> =>
  Object.fromEntries(results.map((r) => [r.unique_id.split('.')[2], r]));

describe('threads', () => {
  it('starts two independent models at once on two connections, and their child after both', async () => {
    // Prepare
    const s = await sandbox();
    // Act
    const { success, runResults } = await s.run({ threads: 2, command: 'run' });
    // Assess
    expect(success).toBe(true);
    const [startA, startB] = [at(s.lines, 'START', 'main.a'), at(s.lines, 'START', 'main.b')];
    const firstDone = Math.min(at(s.lines, 'OK', 'main.a'), at(s.lines, 'OK', 'main.b'));
    expect(Math.max(startA, startB)).toBeLessThan(firstDone);
    expect(at(s.lines, 'START', 'main.c')).toBeGreaterThan(
      Math.max(at(s.lines, 'OK', 'main.a'), at(s.lines, 'OK', 'main.b')),
    );
    expect(s.lines).toContain("Concurrency: 2 threads (target='duckdb')");
    const r = byId(runResults.results);
    expect(new Set([r.a?.thread_id, r.b?.thread_id])).toEqual(new Set(['Thread-1', 'Thread-2']));
    // run_results lists nodes as they finish: c, which waited for both, is last.
    expect(runResults.results.at(-1)?.unique_id).toBe('model.thr.c');
  });

  it('with one thread runs each node to its end before the next starts', async () => {
    const s = await sandbox();
    const { success, runResults } = await s.run({ threads: 1, command: 'run' });
    expect(success).toBe(true);
    expect(at(s.lines, 'START', 'main.b')).toBeGreaterThan(at(s.lines, 'OK', 'main.a'));
    expect(new Set(runResults.results.map((x) => x.thread_id))).toEqual(new Set(['Thread-1']));
  });

  it('without a way to open more connections runs on the one given, and says so', async () => {
    const s = await sandbox();
    const { success } = await s.run({ threads: 2, connect: undefined, command: 'run' });
    expect(success).toBe(true);
    expect(s.lines).toContain("Concurrency: 1 thread (target='duckdb')");
    expect(at(s.lines, 'START', 'main.b')).toBeGreaterThan(at(s.lines, 'OK', 'main.a'));
  });

  it("takes the profile's threads for the duckdb output (profiles.yml, Jinja rendered)", async () => {
    const s = await sandbox({
      'profiles.yml':
        "thr:\n  target: duckdb\n  outputs:\n    duckdb:\n      type: duckdb\n      threads: \"{{ env_var('THR_THREADS', '3') }}\"\n",
    });
    await s.run({ command: 'run' });
    expect(s.lines).toContain("Concurrency: 3 threads (target='duckdb')");
    expect(Math.max(at(s.lines, 'START', 'main.a'), at(s.lines, 'START', 'main.b'))).toBeLessThan(
      Math.min(at(s.lines, 'OK', 'main.a'), at(s.lines, 'OK', 'main.b')),
    );
  });

  it('refuses a profile whose threads is not a whole number, naming the file and the setting', async () => {
    const s = await sandbox({
      'profiles.yml': 'thr:\n  outputs:\n    duckdb:\n      type: duckdb\n      threads: many\n',
    });
    await expect(s.run()).rejects.toThrow(/profiles\.yml.*threads of the duckdb output of profile 'thr'/s);
  });

  it('in build, a model waits for the tests of what it reads', async () => {
    const s = await sandbox();
    const { success } = await s.run({ threads: 4 });
    expect(success).toBe(true);
    expect(at(s.lines, 'START', 'main.c')).toBeGreaterThan(at(s.lines, 'PASS', 'not_null_a_id'));
  });

  it('a failing model skips its dependents and the independent model still builds', async () => {
    const s = await sandbox({ 'models/a.sql': 'select from where' });
    const { success, runResults } = await s.run({ threads: 2 });
    expect(success).toBe(false);
    const r = byId(runResults.results);
    expect(r.a?.status).toBe('error');
    expect(r.b?.status).toBe('success');
    expect(r.c?.status).toBe('skipped');
    expect(r.not_null_a_id?.status).toBe('skipped');
  });

  it('--fail-fast: the first error stops the run and every node not started is reported skipped', async () => {
    const s = await sandbox({ 'models/a.sql': 'select from where' });
    const { success, runResults } = await s.run({ threads: 1, failFast: true, command: 'run' });
    expect(success).toBe(false);
    const r = byId(runResults.results);
    expect(r.a?.status).toBe('error');
    expect(r.b?.status).toBe('skipped');
    expect(r.b?.message).toBe('Skipping due to fail_fast');
    expect(r.c?.status).toBe('skipped');
    const written = JSON.parse(await readFile(path.join(s.dir, 'target/run_results.json'), 'utf8')) as {
      results: RunResult[];
    };
    expect(written.results.map((x) => x.unique_id)).toEqual(runResults.results.map((x) => x.unique_id));
  });
});

describe('threads on the project', () => {
  it('builds Silver and Gold with four threads as with one, on one DuckDB file', async () => {
    // Prepare: one file-backed database, so every thread is a connection to the same instance.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dbt-threads-project-'));
    const instance = await DuckDBInstance.create(path.join(dir, 'warehouse.duckdb'));
    const connection = await instance.connect();
    try {
      const { createBronze } = await import('./dataset.ts');
      await createBronze(connection);
      const { rows } = bronzeRows({
        seed: 5,
        events: 3_000,
        start: new Date('2026-05-01T00:00:00Z'),
        end: new Date('2026-05-01T06:00:00Z'),
        users: 40,
        songs: 120,
      });
      await insertBronze(connection, rows);
      const build = (threads: number) =>
        runDbt({
          projectDir: DBT_PROJECT,
          connection,
          connect: () => instance.connect(),
          threads,
          command: 'build',
          fullRefresh: true,
          targetDir: path.join(dir, `target-${threads}`),
        });
      // Act
      const one = await build(1);
      const four = await build(4);
      // Assess: the same nodes with the same outcomes, and four threads were used.
      const outcome = (r: readonly RunResult[]) =>
        Object.fromEntries([...r].map((x) => [x.unique_id, x.status]).sort());
      expect(four.success).toBe(true);
      expect(outcome(four.runResults.results)).toEqual(outcome(one.runResults.results));
      expect(new Set(four.runResults.results.map((x) => x.thread_id)).size).toBe(4);
    } finally {
      connection.closeSync();
      instance.closeSync();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
