/**
 * Incremental strategies as dbt-core 1.10 resolves them: a strategy that is not a built-in one is the project's
 * macro get_incremental_<strategy>_sql, called with dbt's arg_dict (target_relation, temp_relation,
 * unique_key, dest_columns, incremental_predicates), its statements run in one transaction; a strategy without
 * a macro fails with dbt's message; incremental_predicates narrow delete+insert's delete as dbt-adapters'
 * default__get_delete_insert_merge_sql does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sandbox, statusOf, type Sandbox } from './project.ts';

const ids = async (box: Sandbox, sql = 'select id, v from main.inc order by id, v'): Promise<string[]> =>
  (await box.connection.runAndReadAll(sql)).getRows().map((r) => r.map(String).join(':'));

// A strategy that keeps the stored rows whose id is below every new id and inserts the new rows: it reads
// every arg_dict entry, and each of its two statements only makes sense with the other.
const STRATEGY = `
{% macro get_incremental_keep_below_sql(arg_dict) -%}
    delete from {{ arg_dict['target_relation'] }}
    where {{ arg_dict['unique_key'] }} >= (select min({{ arg_dict['unique_key'] }}) from {{ arg_dict['temp_relation'] }})
    {%- for predicate in arg_dict['incremental_predicates'] or [] %} and {{ predicate }}{% endfor %};
    insert into {{ arg_dict['target_relation'] }} ({% for c in arg_dict['dest_columns'] %}{{ c.quoted }}{{ ', ' if not loop.last }}{% endfor %})
    select {% for c in arg_dict['dest_columns'] %}{{ c.name }}{{ ', ' if not loop.last }}{% endfor %} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}
`;

const model = (strategy: string, rows: string, extra = ''): string =>
  `{{ config(materialized='incremental', incremental_strategy='${strategy}', unique_key='id'${extra}) }}\n` +
  `select * from (values ${rows}) t(id, v)`;

describe('incremental strategies', () => {
  let box: Sandbox;
  afterEach(async () => box?.close());

  it("a custom strategy is the project's get_incremental_<name>_sql, rendered with dbt's arg_dict", async () => {
    box = await sandbox({
      'macros/keep_below.sql': STRATEGY,
      'models/marts/inc.sql': model('keep_below', "(1, 'a'), (2, 'b'), (3, 'c')"),
    });
    await box.run('run', { select: ['inc'] });
    await box.write({ 'models/marts/inc.sql': model('keep_below', "(2, 'x')") });
    const result = await box.run('run', { select: ['inc'] });
    expect(statusOf(result, 'model.conf.inc')).toBe('success');
    // Rows 2 and 3 (>= the least new id) were deleted, the new row inserted; rows_affected is the insert's.
    expect(await ids(box)).toEqual(['1:a', '2:x']);
    expect(result.runResults.results[0]?.adapter_response.rows_affected).toBe(1);
  });

  it('incremental_predicates reach the custom strategy', async () => {
    box = await sandbox({
      'macros/keep_below.sql': STRATEGY,
      'models/marts/inc.sql': model('keep_below', "(1, 'a'), (2, 'b'), (3, 'c')"),
    });
    await box.run('run', { select: ['inc'] });
    await box.write({
      'models/marts/inc.sql': model('keep_below', "(2, 'x')", `, incremental_predicates=["v <> 'c'"]`),
    });
    await box.run('run', { select: ['inc'] });
    expect(await ids(box)).toEqual(['1:a', '2:x', '3:c']);
  });

  it('the strategy statements run in one transaction: a failing one undoes the others', async () => {
    const failing = STRATEGY.replace('insert into {{', 'insert into no_such_schema.t_{{');
    box = await sandbox({
      'macros/keep_below.sql': failing,
      'models/marts/inc.sql': model('keep_below', "(1, 'a'), (2, 'b')"),
    });
    await box.run('run', { select: ['inc'] });
    await box.write({ 'models/marts/inc.sql': model('keep_below', "(1, 'x')") });
    const result = await box.run('run', { select: ['inc'] });
    expect(statusOf(result, 'model.conf.inc')).toBe('error');
    expect(await ids(box)).toEqual(['1:a', '2:b']);
  });

  it("a strategy without a macro fails with dbt's message, naming the macro it looked for", async () => {
    box = await sandbox({ 'models/marts/inc.sql': model('nowhere', "(1, 'a')") });
    await box.run('run', { select: ['inc'] });
    const result = await box.run('run', { select: ['inc'] });
    expect(statusOf(result, 'model.conf.inc')).toBe('error');
    expect(result.runResults.results[0]?.message).toMatch(
      /unsupported incremental_strategy 'nowhere': dbt could not find an incremental strategy macro with the name "get_incremental_nowhere_sql" in conf/,
    );
  });

  it('incremental_predicates narrow the delete of delete+insert (rows the predicate leaves stay)', async () => {
    box = await sandbox({ 'models/marts/inc.sql': model('delete+insert', "(1, 'a'), (2, 'b')") });
    await box.run('run', { select: ['inc'] });
    await box.write({
      'models/marts/inc.sql': model(
        'delete+insert',
        "(1, 'x'), (2, 'y')",
        `, incremental_predicates=["DBT_INTERNAL_DEST.v <> 'a'"]`,
      ),
    });
    await box.run('run', { select: ['inc'] });
    expect(await ids(box)).toEqual(['1:a', '1:x', '2:y']);
  });

  it('incremental_predicates with merge are refused by name', async () => {
    box = await sandbox({ 'models/marts/inc.sql': model('merge', "(1, 'a')") });
    await box.run('run', { select: ['inc'] });
    await box.write({
      'models/marts/inc.sql': model('merge', "(1, 'x')", `, incremental_predicates=["v <> 'a'"]`),
    });
    const result = await box.run('run', { select: ['inc'] });
    expect(result.runResults.results[0]?.message).toMatch(
      /model config 'incremental_predicates' with 'merge' at models\/marts\/inc.sql:inc is not supported by the embedded runner/,
    );
  });
});
