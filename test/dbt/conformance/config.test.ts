/**
 * Conformance of the embedded runner with dbt 1.10 for configs, tests and project features: each case either
 * does what dbt documents or is refused by name ("<construct> at <file>:<node> is not supported by the
 * embedded runner; run dbt-core for it") before anything runs. No construct is accepted and ignored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { refused, sandbox, statusOf, type Sandbox } from './project.ts';

let box: Sandbox | undefined;
afterEach(async () => {
  await box?.close();
  box = undefined;
});

const props = (body: string): Record<string, string> => ({
  'models/marts/_props.yml': `version: 2\n${body}`,
});

describe('data test entries (dbt 1.10: arguments under arguments:, config keys are config)', () => {
  it('config() in a generic test definition is the test config (severity warn makes a failing test warn)', async () => {
    box = await sandbox({
      'tests/generic/is_one.sql':
        "{% test is_one(model, column_name) %}{{ config(severity='warn') }}select * from {{ model }} where {{ column_name }} != 1{% endtest %}",
      ...props('models:\n  - name: m\n    columns:\n      - name: id\n        data_tests: [is_one]\n'),
    });
    const result = await box.run();
    expect(statusOf(result, 'test.conf.is_one_m_id')).toBe('warn');
    expect(result.success).toBe(true);
  });

  it('top-level severity, warn_if, error_if and tags are config, not macro arguments', async () => {
    box = await sandbox(
      props(
        "models:\n  - name: m\n    columns:\n      - name: v\n        data_tests:\n          - accepted_values:\n              arguments:\n                values: [x]\n              error_if: '>5'\n              warn_if: '>0'\n              tags: [checked]\n",
      ),
    );
    const result = await box.run('build', { select: ['+tag:checked'] });
    // One row ('y') is not accepted: over warn_if, not over error_if; the tag selects the test.
    const tests = result.runResults.results.filter((r) => r.unique_id.startsWith('test.'));
    expect(tests.map((r) => [r.unique_id.split('.')[2], r.status])).toEqual([
      ['accepted_values_m_v__x', 'warn'],
    ]);
  });

  it.each([
    ['top-level', '          - not_null:\n              enabled: false\n'],
    ['config:', '          - not_null:\n              config:\n                enabled: false\n'],
  ])('enabled: false (%s) disables the test', async (_form, entry) => {
    box = await sandbox(
      props(`models:\n  - name: m\n    columns:\n      - name: id\n        data_tests:\n${entry}`),
    );
    const result = await box.run();
    expect(result.runResults.results.some((r) => r.unique_id.startsWith('test.'))).toBe(false);
  });

  it('fail_calc decides the failure count (dbt: select {{ fail_calc }} as failures)', async () => {
    box = await sandbox(
      props(
        "models:\n  - name: m\n    data_tests:\n      - expression_rows:\n          config:\n            fail_calc: 'sum(id)'\n            error_if: '>2'\n",
      ),
    );
    await box.write({
      'tests/generic/expression_rows.sql':
        '{% test expression_rows(model) %}select id from {{ model }}{% endtest %}',
    });
    const result = await box.run();
    const test = result.runResults.results.find((r) => r.unique_id.includes('expression_rows'));
    expect(test?.failures).toBe(3);
    expect(test?.status).toBe('fail');
  });

  it('path-scoped data_tests: config in dbt_project.yml applies to the tests defined under that path', async () => {
    box = await sandbox(
      props(
        "models:\n  - name: m\n    columns:\n      - name: v\n        data_tests:\n          - accepted_values:\n              arguments:\n                values: ['x']\n",
      ),
    );
    await box.write({
      'dbt_project.yml': `${(await import('./project.ts')).BASE_FILES['dbt_project.yml']}data_tests:\n  conf:\n    marts:\n      +severity: warn\n`,
    });
    const result = await box.run();
    expect(statusOf(result, 'accepted_values_m_v__x')).toBe('warn');
  });

  it.each([
    [
      'store_failures',
      '          - not_null:\n              config:\n                store_failures: true\n',
      "test config 'store_failures: true'",
    ],
    [
      'store_failures_as',
      '          - not_null:\n              config:\n                store_failures_as: table\n',
      "test config 'store_failures_as'",
    ],
    [
      'database',
      '          - not_null:\n              config:\n                database: other\n',
      "test config 'database'",
    ],
  ])('%s on a test is refused by name', async (_key, entry, construct) => {
    box = await sandbox(
      props(`models:\n  - name: m\n    columns:\n      - name: id\n        data_tests:\n${entry}`),
    );
    await expect(box.run()).rejects.toThrow(refused(construct, 'models/marts/_props.yml:not_null_m_id'));
  });
});

describe('model config', () => {
  it.each([
    ["{{ config(post_hook='grant select on {{ this }} to r') }}", "model config 'post_hook'"],
    ["{{ config(pre_hook='select 1') }}", "model config 'pre_hook'"],
    ["{{ config(grants={'select': ['r']}) }}", "model config 'grants'"],
    ["{{ config(database='other') }}", "model config 'database'"],
    ['{{ config(contract={"enforced": true}) }}', "model config 'contract: {enforced: true}'"],
    ["{{ config(persist_docs={'relation': true}) }}", "model config 'persist_docs'"],
    [
      "{{ config(materialized='incremental', on_schema_change='append_new_columns') }}",
      "model config 'on_schema_change: append_new_columns'",
    ],
  ])('%s is refused by name', async (config, construct) => {
    box = await sandbox({ 'models/marts/m.sql': `${config}\nselect * from {{ ref('stg_a') }}` });
    await expect(box.run()).rejects.toThrow(refused(construct, 'models/marts/m.sql:m'));
  });

  it("'+post-hook' in dbt_project.yml is refused by name", async () => {
    box = await sandbox();
    const { BASE_FILES } = await import('./project.ts');
    await box.write({ 'dbt_project.yml': `${BASE_FILES['dbt_project.yml']}    +post-hook: 'select 1'\n` });
    await expect(box.run()).rejects.toThrow(/model config 'post-hook' at models\/.* is not supported/);
  });

  it('full_refresh: false keeps an incremental model through --full-refresh (dbt: the config wins over the flag)', async () => {
    const model = (rows: string): string =>
      `{{ config(materialized='incremental', unique_key='id', full_refresh=false) }}\nselect * from (values ${rows}) t(id)`;
    box = await sandbox({ 'models/marts/inc.sql': model('(1), (2)') });
    await box.run('run', { select: ['inc'] });
    await box.write({ 'models/marts/inc.sql': model('(3)') });
    await box.run('run', { select: ['inc'], fullRefresh: true });
    const rows = (await box.connection.runAndReadAll('select id from main.inc order by id')).getRows();
    expect(rows.map((r) => Number(r[0]))).toEqual([1, 2, 3]);
  });

  it('on_schema_change: fail fails when a column changes type, not only when names change', async () => {
    const model = (select: string): string =>
      `{{ config(materialized='incremental', unique_key='id', on_schema_change='fail') }}\n${select}`;
    box = await sandbox({ 'models/marts/inc.sql': model('select 1 as id, 1 as amount') });
    await box.run('run', { select: ['inc'] });
    await box.write({ 'models/marts/inc.sql': model("select 2 as id, 'one' as amount") });
    const result = await box.run('run', { select: ['inc'] });
    expect(statusOf(result, 'model.conf.inc')).toBe('error');
    expect(result.runResults.results[0]?.message).toMatch(
      /out of sync \(on_schema_change: fail\).*amount INTEGER.*amount VARCHAR/s,
    );
  });

  it('a ref inside {% if execute %} is not a dependency: an error at execution, as in dbt', async () => {
    box = await sandbox({
      'models/marts/m.sql':
        "select 1 as id\n{% if execute %}union all select id from {{ ref('stg_a') }}{% endif %}",
    });
    const result = await box.run('run', { select: ['m'] });
    expect(statusOf(result, 'model.conf.m')).toBe('error');
    expect(result.runResults.results[0]?.message).toMatch(
      /dbt was unable to infer all dependencies for the model "m".*-- depends_on: \{\{ ref\('stg_a'\) \}\}/s,
    );
  });
  it('adapter.get_relation answers the relation when it exists at execution, none when not (and none at parse)', async () => {
    // The model names a relation that exists only from the second run on (model n is built after m).
    const model =
      "{% set r = adapter.get_relation(database=this.database, schema=this.schema, identifier='n') %}" +
      "select {{ 'null' if r is none else '(select count(*) from ' ~ r ~ ')' }} as n_rows, {{ 1 if execute else 0 }} as executed";
    box = await sandbox({ 'models/marts/m.sql': model });
    await box.run('run', { select: ['m'] });
    const read = async () =>
      (await box!.connection.runAndReadAll('select n_rows, executed from main.m')).getRows()[0];
    expect(await read()).toEqual([null, 1]);
    await box.run('run', { select: ['n'] });
    await box.run('run', { select: ['m'] });
    expect((await read())?.map(Number)).toEqual([1, 1]); // n holds m's one row
  });
});

describe('project features the runner does not implement', () => {
  it.each([
    [
      'on-run-end',
      "on-run-end: ['select 1']\n",
      "dbt_project.yml key 'on-run-end'",
      'dbt_project.yml:on-run-end',
    ],
    [
      'on-run-start',
      "on-run-start: ['select 1']\n",
      "dbt_project.yml key 'on-run-start'",
      'dbt_project.yml:on-run-start',
    ],
    ['seeds:', 'seeds:\n  conf:\n    +schema: raw\n', "dbt_project.yml key 'seeds'", 'dbt_project.yml:seeds'],
  ])('%s is refused by name', async (_key, yml, construct, where) => {
    box = await sandbox();
    const { BASE_FILES } = await import('./project.ts');
    await box.write({ 'dbt_project.yml': `${BASE_FILES['dbt_project.yml']}${yml}` });
    await expect(box.run()).rejects.toThrow(refused(construct, where));
  });

  it.each([
    ['seeds/', { 'seeds/countries.csv': 'code\nSE\n' }, refused('seeds', 'seeds/countries.csv:countries')],
    [
      'snapshots/',
      { 'snapshots/snap.sql': '{% snapshot snap %}select 1{% endsnapshot %}' },
      refused('snapshots', 'snapshots/snap.sql:snap'),
    ],
    [
      'unit_tests:',
      props('unit_tests:\n  - name: m_keeps_ids\n    model: m\n    given: []\n    expect: {rows: []}\n'),
      refused('unit_tests:', 'models/marts/_props.yml:m_keeps_ids'),
    ],
    [
      'snapshots: properties',
      props('snapshots:\n  - name: snap\n'),
      refused('snapshots:', 'models/marts/_props.yml:snap'),
    ],
  ])('%s is refused by name, so the build cannot pass without running it', async (_what, files, error) => {
    box = await sandbox(files);
    await expect(box.run()).rejects.toThrow(error);
  });
});

describe('source freshness', () => {
  const sources = (freshness: string): Record<string, string> => ({
    'models/staging/_sources.yml': `version: 2\nsources:\n  - name: raw\n    schema: raw\n${freshness}    tables:\n      - name: events\n`,
  });

  it.each([
    [
      'config: (dbt 1.10)',
      '    config:\n      loaded_at_field: loaded_at\n      freshness:\n        error_after: {count: 1, period: hour}\n',
    ],
    [
      'top-level (deprecated in 1.10, still read)',
      '    loaded_at_field: loaded_at\n    freshness:\n      error_after: {count: 1, period: hour}\n',
    ],
  ])('freshness in the %s form is checked: a stale source is an error', async (_form, yml) => {
    box = await sandbox(sources(yml));
    await box.connection.run(
      "create schema raw; create table raw.events as select timestamp '2026-07-01 10:00:00' as loaded_at",
    );
    const result = await box.freshness(new Date('2026-07-01T12:00:00Z'));
    expect(result.results.map((r) => r.status)).toEqual(['error']);
    expect(result.success).toBe(false);
  });

  it('freshness without loaded_at_field (dbt: metadata-based freshness) is refused by name', async () => {
    box = await sandbox(sources('    freshness:\n      error_after: {count: 1, period: hour}\n'));
    await expect(box.freshness(new Date())).rejects.toThrow(
      refused(
        'metadata-based freshness (freshness without loaded_at_field)',
        'models/staging/_sources.yml:raw.events',
      ),
    );
  });

  it('loaded_at_query is refused by name', async () => {
    box = await sandbox(sources('    loaded_at_query: select now()\n'));
    await expect(box.freshness(new Date())).rejects.toThrow(
      refused("source property 'loaded_at_query'", 'models/staging/_sources.yml:raw.events'),
    );
  });
});
