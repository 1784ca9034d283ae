import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDbt } from '../../localstack/dbt/index.ts';
import { DbtCompilationError, JinjaEnv } from '../../localstack/dbt/jinja.ts';
import { tempWarehouse, readTable, type TempWarehouse } from './helpers.ts';

function render(source: string, globals: Record<string, unknown> = {}): string {
  const env = new JinjaEnv(globals);
  return env.render('t.sql', env.compile('t.sql', source));
}

describe('Jinja rendering (dbt semantics on nunjucks)', () => {
  it('knows True, False, None and the none test', () => {
    expect(render('{{ True and not False }} {{ x is none }} {{ y is not none }}', { x: null, y: 1 })).toBe(
      'True True True',
    );
  });

  it('whitespace control and loop variables behave as in Jinja2', () => {
    expect(
      render(
        'a\n{%- for v in [1, 2, 3] %}\n{{ loop.index }}{% if not loop.last %},{% endif %}\n{%- endfor %}',
      ),
    ).toBe('a\n1,\n2,\n3');
  });

  it('return() makes a macro evaluate to a value; the first return wins', () => {
    const env = new JinjaEnv({});
    env.loadMacros(
      'macros/m.sql',
      "{% macro cols() %}{{ return(['a', 'b']) }}{{ return(['z']) }}{% endmacro %}{% macro wrap() %}x{{ cols() | join('+') }}x{% endmacro %}",
    );
    expect(env.render('t.sql', env.compile('t.sql', '{{ cols() | length }} {{ wrap() }}'))).toBe('2 xa+bx');
  });

  it('dbt test blocks become test_<name> macros', () => {
    const env = new JinjaEnv({});
    env.loadMacros(
      'tests/generic/t.sql',
      '{% test positive(model, column_name) %}select * from {{ model }} where {{ column_name }} <= 0{% endtest %}',
    );
    expect(env.macros.has('test_positive')).toBe(true);
  });

  it.each([
    ['{% do x.append(1) %}', 'unsupported Jinja tag {% do %}'],
    ["{% set pairs = [('a', 1)] %}", 'tuple literal'],
    ['{% for x in [1] %}{{ loop.cycle("a", "b") }}{% endfor %}', 'loop.cycle'],
    ['{% set ns = namespace(n=0) %}', 'namespace()'],
    ["{{ '%s' % x }}", 'string formatting'],
  ])('rejects %s with file and line', (source, construct) => {
    const attempt = (): string => render(`select 1\n${source}`);
    expect(attempt).toThrow(DbtCompilationError);
    expect(attempt).toThrow(new RegExp(`^t\\.sql:2: .*${construct.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('an undefined name is an error naming the line, not an empty string', () => {
    expect(() => render('select\n{{ missing_var }}')).toThrow(/^t\.sql:2: /);
  });
});

describe('materializations and context on a small project', () => {
  let wh: TempWarehouse;
  let project: string;

  beforeEach(async () => {
    wh = await tempWarehouse();
    project = path.join(wh.dir, 'mini');
    await mkdir(path.join(project, 'models'), { recursive: true });
    await mkdir(path.join(project, 'macros'), { recursive: true });
    await writeFile(
      path.join(project, 'dbt_project.yml'),
      'name: mini\nversion: "1"\nconfig-version: 2\nprofile: mini\nvars:\n  greeting: project\nmodels:\n  mini:\n    +schema: analytics\n',
    );
    await writeFile(
      path.join(project, 'macros/generate_schema_name.sql'),
      '{% macro generate_schema_name(custom_schema_name, node) %}custom_{{ custom_schema_name }}{% endmacro %}\n' +
        "{% macro greet() %}{{ return(adapter.dispatch('greet')()) }}{% endmacro %}\n" +
        "{% macro default__greet() %}'default'{% endmacro %}\n{% macro duckdb__greet() %}'duckdb'{% endmacro %}\n",
    );
    await writeFile(
      path.join(project, 'models/inc.sql'),
      "{{ config(materialized='incremental', unique_key='id') }}\n" +
        "select 1 as id, '{{ 'incremental' if is_incremental() else 'full' }}' as mode, {{ greet() }} as dialect, '{{ var('greeting') }}' as greeting\n" +
        "{% if is_incremental() %}union all select 2, 'new', null, null{% endif %}\n",
    );
  });
  afterEach(async () => wh?.close());

  const build = (fullRefresh = false, vars?: Record<string, unknown>) =>
    runDbt({
      projectDir: project,
      connection: wh.connection,
      command: 'run',
      fullRefresh,
      vars,
      targetDir: wh.dir,
    });
  const rows = async () =>
    (await readTable(wh.connection, 'custom_analytics.inc')).sort((a, b) => Number(a.id) - Number(b.id));

  it('is_incremental() is false on the first run and on a full refresh; the merge replaces rows by unique_key', async () => {
    // Act + Assess: first run creates the table.
    expect((await build()).success).toBe(true);
    expect(await rows()).toEqual([{ id: 1, mode: 'full', dialect: 'duckdb', greeting: 'project' }]);
    // Second run: incremental, row 1 replaced (same key), row 2 added; command-line vars override project vars.
    await build(false, { greeting: 'cli' });
    expect(await rows()).toEqual([
      { id: 1, mode: 'incremental', dialect: 'duckdb', greeting: 'cli' },
      { id: 2, mode: 'new', dialect: null, greeting: null },
    ]);
    // Full refresh rebuilds from scratch.
    await build(true);
    expect(await rows()).toEqual([{ id: 1, mode: 'full', dialect: 'duckdb', greeting: 'project' }]);
  });
});
