/**
 * Conformance of the embedded runner with dbt 1.10 for the context a node renders in: run_started_at
 * (https://docs.getdbt.com/reference/dbt-jinja-functions/run_started_at), adapter.get_columns_in_relation,
 * config.get, and a project's get_where_subquery override, which every generic test's `where` goes through
 * (https://docs.getdbt.com/reference/resource-configs/where, "Custom logic").
 */
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
