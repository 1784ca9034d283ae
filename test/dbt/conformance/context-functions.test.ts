/**
 * Conformance of the embedded runner with dbt 1.10 for the context a node renders in: run_started_at
 * (https://docs.getdbt.com/reference/dbt-jinja-functions/run_started_at), adapter.get_columns_in_relation,
 * run_query (https://docs.getdbt.com/reference/dbt-jinja-functions/run_query: a Table, none while parsing),
 * config.get, and a project's get_where_subquery override, which every generic test's `where` goes through
 * (https://docs.getdbt.com/reference/resource-configs/where, "Custom logic").
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { sandbox, statusOf, type Sandbox } from './project.ts';

let box: Sandbox | undefined;
afterEach(async () => {
  await box?.close();
  box = undefined;
});

const compiledOf = (result: Awaited<ReturnType<Sandbox['run']>>, part: string): string =>
  String(result.runResults.results.find((r) => r.unique_id.includes(part))?.compiled_code ?? '');

describe('run_started_at', () => {
  it('is the invocation start in UTC, one value for every node of a run, later in the next run', async () => {
    // Prepare: two models print it, as str(), strftime() and isoformat().
    const model =
      "select '{{ run_started_at }}' as printed, '{{ run_started_at.strftime(\"%Y-%m-%d %H:%M:%S.%f\") }}' as formatted, '{{ run_started_at.isoformat() }}' as iso";
    box = await sandbox({ 'models/marts/m.sql': model, 'models/marts/n.sql': model });
    const read = async (table: string): Promise<string[]> =>
      ((await box!.connection.runAndReadAll(`select * from main.${table}`)).getRows()[0] ?? []).map(String);
    // Act
    const before = Date.now();
    await box.run('run', { select: ['m', 'n'] });
    const first = await read('m');
    await box.run('run', { select: ['m'] });
    const second = await read('m');
    // Assess: Python's str() of an aware UTC datetime, strftime with microseconds, isoformat().
    const [printed, formatted, iso] = first;
    expect(printed).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    expect(formatted).toBe(printed?.slice(0, 26));
    expect(iso).toBe(printed?.replace(' ', 'T'));
    expect(Math.abs(Date.parse(`${formatted?.replace(' ', 'T').slice(0, 23)}Z`) - before)).toBeLessThan(
      60_000,
    );
    expect(await read('n')).toEqual(first);
    expect(second[1]! > formatted!).toBe(true);
  });

  it('refuses a strftime code it does not implement by name', async () => {
    box = await sandbox({ 'models/marts/m.sql': 'select \'{{ run_started_at.strftime("%A") }}\' as day' });
    await expect(box.run('run', { select: ['m'] })).rejects.toThrow(
      /run_started_at\.strftime\('%A'\) at models\/marts\/m\.sql is not supported by the embedded runner/,
    );
  });
});

describe('adapter.get_columns_in_relation', () => {
  it('gives the columns of a relation as the node starts (none for a missing relation, none at parse)', async () => {
    // Prepare: o lists the columns of stg_a, which exists from the second run on.
    const model =
      "{% set r = adapter.get_relation(database=this.database, schema=this.schema, identifier='stg_a') %}" +
      "select '{% for c in adapter.get_columns_in_relation(r) %}{{ c.name }}:{{ c.data_type }}{% if not loop.last %},{% endif %}{% endfor %}' as cols," +
      ' {{ adapter.get_columns_in_relation(this) | length }} as own';
    box = await sandbox({ 'models/marts/o.sql': model });
    const read = async () =>
      ((await box!.connection.runAndReadAll('select cols, own from main.o')).getRows()[0] ?? []).map(String);
    // Act + Assess
    await box.run('run', { select: ['o'] });
    expect(await read()).toEqual(['', '0']);
    await box.run('run', { select: ['stg_a'] });
    await box.run('run', { select: ['o'] });
    expect(await read()).toEqual(['id:INTEGER,v:VARCHAR', '2']);
  });
});

describe('run_query', () => {
  it('gives a Table of the warehouse as the node runs: rows and columns by position and by name', async () => {
    // Prepare: q reads stg_a through run_query, under dbt's `if execute` guard (so with the depends_on hint).
    const model =
      "-- depends_on: {{ ref('stg_a') }}\n" +
      "{% if execute %}{% set t = run_query('select count(*) as n, max(v) as top, 0.25::decimal(4,2) as share from ' ~ ref('stg_a')) %}" +
      "select {{ t.rows[0][0] }} as n, '{{ t.rows[0]['top'] }}' as top, {{ t.columns[2].values()[0] }} as share," +
      " '{{ t.columns['top'].values() | join(',') }}' as tops, '{{ t.column_names | join(',') }}' as names, {{ t.rows | length }} as k" +
      '{% else %}select 0 as n{% endif %}';
    box = await sandbox({ 'models/marts/q.sql': model });
    // Act
    await box.run('run', { select: ['stg_a', 'q'] });
    // Assess
    const rows = (await box.connection.runAndReadAll('select * from main.q')).getRows();
    expect(rows.map((r) => r.map(String))).toEqual([['2', 'y', '0.25', 'y', 'n,top,share', '1']]);
  });

  it('is none while parsing, so a ref under `if run_query(...) is none` is a dependency', async () => {
    // Prepare: the ref to m is only rendered when run_query gives none, which it does at parse alone.
    const model = "{% if run_query('select 1') is none %}{{ ref('m') }}{% endif %}select 1 as x";
    box = await sandbox({ 'models/marts/p.sql': model });
    // Act
    const result = await box.run('run', { select: ['p'] });
    // Assess: parsed with the dependency, executed without the ref.
    expect(statusOf(result, 'model.conf.p')).toBe('success');
    expect(compiledOf(result, 'model.conf.p')).toBe('select 1 as x');
    const manifest = JSON.parse(await readFile(`${box.dir}/target/manifest.json`, 'utf8')) as {
      nodes: Record<string, { depends_on: { nodes: string[] } }>;
    };
    expect(manifest.nodes['model.conf.p']?.depends_on.nodes).toEqual(['model.conf.m']);
  });

  it('reaches a custom incremental strategy, which sees the warehouse as the model started', async () => {
    // Prepare: the strategy inserts only when run_query finds fewer than 3 stored rows.
    const strategy =
      "{% macro get_incremental_capped_sql(arg_dict) -%}{% set t = run_query('select count(*) from ' ~ arg_dict['target_relation']) %}" +
      "{% if t.rows[0][0] < 3 %}insert into {{ arg_dict['target_relation'] }} select * from {{ arg_dict['temp_relation'] }}{% else %}select 1{% endif %}{%- endmacro %}";
    const inc = (id: number): string =>
      `{{ config(materialized='incremental', incremental_strategy='capped') }}select ${id} as id`;
    box = await sandbox({ 'macros/capped.sql': strategy, 'models/marts/inc.sql': inc(1) });
    // Act: a first build, then three incremental runs.
    for (const id of [1, 2, 3, 4]) {
      await box.write({ 'models/marts/inc.sql': inc(id) });
      await box.run('run', { select: ['inc'] });
    }
    // Assess: the fourth run found 3 rows and inserted nothing.
    const rows = (await box.connection.runAndReadAll('select id from main.inc order by id')).getRows();
    expect(rows.map((r) => Number(r[0]))).toEqual([1, 2, 3]);
  });
});

describe('get_where_subquery (a generic test`s model argument)', () => {
  const props = (where: string): string =>
    [
      'version: 2',
      'models:',
      '  - name: m',
      '    columns:',
      '      - name: v',
      '        data_tests:',
      '          - accepted_values:',
      "              arguments: { values: ['x'] }",
      '              config:',
      `                where: "${where}"`,
      '',
    ].join('\n');

  it("is dbt's own without an override: the where filters the tested relation in a subquery", async () => {
    box = await sandbox({ 'models/marts/_props.yml': props('id = 1') });
    const result = await box.run('build', { select: ['+m'] });
    expect(statusOf(result, 'accepted_values_m_v')).toBe('pass');
    expect(compiledOf(result, 'accepted_values_m_v')).toContain(
      '(select * from "main"."m" where id = 1) dbt_subquery',
    );
  });

  it("calls the project's default__get_where_subquery, as dbt's dispatch does: here a placeholder", async () => {
    // Prepare: __first__ stands for id = 1; without the override the where would not parse.
    const override = [
      '{% macro default__get_where_subquery(relation) -%}',
      "    {%- set where = config.get('where', '') | replace('__first__', 'id = 1') -%}",
      '    {%- if where -%}',
      '        {%- set filtered -%}(select * from {{ relation }} where {{ where }}) dbt_subquery{%- endset -%}',
      '        {{ return(filtered) }}',
      '    {%- else -%}',
      '        {{ return(relation) }}',
      '    {%- endif -%}',
      '{%- endmacro %}',
    ].join('\n');
    box = await sandbox({
      'models/marts/_props.yml': props('__first__'),
      'macros/get_where_subquery.sql': override,
    });
    // Act
    const filtered = await box.run('build', { select: ['+m'] });
    await box.write({ 'models/marts/_props.yml': props('id = 2') });
    const other = await box.run('build', { select: ['+m'] });
    // Assess: row 1 ('x') passes, row 2 ('y') fails: the override's filter is the one applied.
    expect(statusOf(filtered, 'accepted_values_m_v')).toBe('pass');
    expect(compiledOf(filtered, 'accepted_values_m_v')).toContain('where id = 1) dbt_subquery');
    expect(statusOf(other, 'accepted_values_m_v')).toBe('fail');
  });
});
