import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DbtCompilationError, runDbt, type RunResult } from '../../localstack/dbt/index.ts';
import { bronzeRows, insertBronze } from './dataset.ts';
import { projectCopy, tempWarehouse, type TempWarehouse } from './helpers.ts';

const statusOf = (results: readonly RunResult[], name: string): string | undefined =>
  results.find((r) => r.unique_id === `model.spotify_mds.${name}`)?.status;

describe('bad input', () => {
  let wh: TempWarehouse;
  let project: string;

  beforeEach(async () => {
    wh = await tempWarehouse();
    project = await projectCopy(wh.dir);
    const { rows } = bronzeRows({
      seed: 3,
      events: 2_000,
      start: new Date('2026-05-01T00:00:00Z'),
      end: new Date('2026-05-01T06:00:00Z'),
      users: 30,
      songs: 100,
    });
    await insertBronze(wh.connection, rows);
  });
  afterEach(async () => wh?.close());

  const run = (command: 'build' | 'run' | 'test' = 'build') =>
    runDbt({ projectDir: project, connection: wh.connection, command, targetDir: wh.dir });

  it('a SQL syntax error fails that model, skips its dependents and builds the rest', async () => {
    // Prepare: user_wrapped_top is read by user_wrapped.
    await writeFile(
      path.join(project, 'models/marts/user_wrapped_top.sql'),
      "select from where {{ ref('stg_spotify__events') }}\n",
    );
    // Act
    const { success, runResults } = await run();
    // Assess
    expect(success).toBe(false);
    const failed = runResults.results.find((r) => r.unique_id === 'model.spotify_mds.user_wrapped_top');
    expect(failed?.status).toBe('error');
    expect(failed?.message).toContain('user_wrapped_top');
    expect(failed?.message).toContain('models/marts/user_wrapped_top.sql');
    expect(statusOf(runResults.results, 'user_wrapped')).toBe('skipped');
    expect(statusOf(runResults.results, 'plays_per_hour')).toBe('success');
    expect(statusOf(runResults.results, 'user_top_tracks')).toBe('success');
    const compiled = await readFile(
      path.join(wh.dir, 'compiled/spotify_mds/models/marts/plays_per_hour.sql'),
      'utf8',
    );
    expect(compiled).toContain('from "silver"."stg_spotify__events"');
    const json = JSON.parse(await readFile(path.join(wh.dir, 'run_results.json'), 'utf8')) as {
      results: RunResult[];
    };
    expect(json.results.find((r) => r.unique_id === 'model.spotify_mds.user_wrapped')?.status).toBe(
      'skipped',
    );
  });

  it('a failing test skips the models downstream of the tested model, as dbt build does', async () => {
    // Prepare: a test on Silver that cannot pass.
    await writeFile(
      path.join(project, 'tests/assert_no_plays.sql'),
      "select * from {{ ref('stg_spotify__events') }} where event_type = 'play'\n",
    );
    // Act
    const { success, runResults } = await run();
    // Assess
    expect(success).toBe(false);
    expect(runResults.results.find((r) => r.unique_id === 'test.spotify_mds.assert_no_plays')?.status).toBe(
      'fail',
    );
    expect(statusOf(runResults.results, 'stg_spotify__events')).toBe('success');
    expect(statusOf(runResults.results, 'plays_per_hour')).toBe('skipped');
  });

  it('a warn-severity test that finds rows warns and the run still succeeds', async () => {
    await writeFile(
      path.join(project, 'tests/assert_no_plays.sql'),
      "{{ config(severity='warn') }}\nselect * from {{ ref('stg_spotify__events') }} where event_type = 'play'\n",
    );
    const { success, runResults } = await run();
    expect(runResults.results.find((r) => r.unique_id === 'test.spotify_mds.assert_no_plays')?.status).toBe(
      'warn',
    );
    expect(success).toBe(true);
  });

  it('warn_if / error_if thresholds decide between pass, warn and fail', async () => {
    const plays = "select * from {{ ref('stg_spotify__events') }} where event_type = 'play'\n";
    await writeFile(
      path.join(project, 'tests/assert_few_plays.sql'),
      `{{ config(error_if='>1000000', warn_if='>0') }}\n${plays}`,
    );
    await writeFile(
      path.join(project, 'tests/assert_fewer_plays.sql'),
      `{{ config(error_if='>=1') }}\n${plays}`,
    );
    const { runResults } = await run('build');
    const status = (name: string) =>
      runResults.results.find((r) => r.unique_id === `test.spotify_mds.${name}`);
    expect(status('assert_few_plays')?.status).toBe('warn');
    expect(status('assert_fewer_plays')?.status).toBe('fail');
    expect(status('assert_fewer_plays')?.message).toMatch(/^Got \d+ results, configured to fail if >=1$/);
  });

  it('a Jinja syntax error stops the run before anything executes, naming file and line', async () => {
    await writeFile(
      path.join(project, 'models/marts/plays_per_hour.sql'),
      "select 1\n{% if true %}\nselect {{ ref('stg_spotify__events') }\n",
    );
    await expect(run()).rejects.toThrow(/^models\/marts\/plays_per_hour\.sql:\d+: /);
    await expect(
      wh.connection.runAndReadAll("select * from information_schema.tables where table_schema = 'silver'"),
    ).resolves.toSatisfy((r: { getRows(): unknown[] }) => r.getRows().length === 0);
  });

  it('a ref to a missing model names the model and the missing node', async () => {
    await appendFile(path.join(project, 'models/marts/device_mix.sql'), "\n-- {{ ref('no_such_model') }}\n");
    const err = await run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DbtCompilationError);
    expect((err as Error).message).toMatch(
      /^models\/marts\/device_mix\.sql:\d+: model 'device_mix' depends on a node named 'no_such_model' which was not found$/,
    );
  });

  it('a cycle is reported with the models on it', async () => {
    await appendFile(
      path.join(project, 'models/marts/listener_events.sql'),
      "\n-- {{ ref('listening_sessions') }}\n",
    );
    // The cycle is named from whichever of its models the walk reached first.
    await expect(run()).rejects.toThrow(
      /Found a cycle: (model\.spotify_mds\.listener_events --> model\.spotify_mds\.listening_sessions --> model\.spotify_mds\.listener_events|model\.spotify_mds\.listening_sessions --> model\.spotify_mds\.listener_events --> model\.spotify_mds\.listening_sessions)$/,
    );
  });

  it('an unsupported Jinja construct is an error with file, line and construct', async () => {
    await writeFile(
      path.join(project, 'models/marts/country_mix.sql'),
      'select 1 as x\n{% for i in [1, 2] %}\n{% set y = i %}\n{% endfor %}\n',
    );
    await expect(run()).rejects.toThrow(
      'models/marts/country_mix.sql:3: unsupported construct {% set %} inside {% for %}',
    );
  });
});
