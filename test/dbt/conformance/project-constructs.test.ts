/**
 * Every Jinja construct this project's models, macros and tests use (context functions, tags, filters) and
 * every generic test its properties files use has a conformance case: a construct added to the project
 * without one fails here, naming it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { listFiles } from '../../../localstack/dbt/properties.ts';
import { DBT_PROJECT } from '../helpers.ts';

/** Construct -> where its conformance is checked. */
const COVERED: Readonly<Record<string, string>> = {
  // context functions
  ref: 'config.test.ts (ref inside {% if execute %}), manifest.test.ts (depends_on)',
  source: 'config.test.ts (source freshness), manifest.test.ts (sources)',
  config: 'config.test.ts (model config, config() in a test definition)',
  var: 'test/dbt/incremental.test.ts (silver_lookback_hours)',
  is_incremental: 'config.test.ts (full_refresh: false, on_schema_change: fail)',
  'adapter.dispatch': 'test/dbt/gold.test.ts (epoch_seconds on DuckDB)',
  'adapter.get_relation': 'config.test.ts (exists at execution, none when missing)',
  return: 'test/dbt/jinja.test.ts (return() makes a macro evaluate to a value)',
  'adapter.get_columns_in_relation': 'context-functions.test.ts (columns as the node starts)',
  'config.get': 'context-functions.test.ts (a get_where_subquery override reads where)',
  'run_started_at.strftime': 'context-functions.test.ts (str, strftime, isoformat; one per run)',
  'exceptions.raise_compiler_error': 'test/dbt/silver-migration.test.ts (a Silver without merged_at)',
  // tags
  if: 'jinja.test.ts (truthiness of []/{})',
  else: 'jinja.test.ts (truthiness of []/{})',
  for: 'jinja.test.ts (for k in dict)',
  macro: 'test/dbt/jinja.test.ts (macros)',
  test: 'config.test.ts (generic test definitions)',
  set: 'test/dbt/jinja.test.ts ({% set %} outside loops)',
  // filters
  join: 'jinja.test.ts (list + list in a join)',
  trim: 'test/dbt/gold.test.ts (generate_schema_name)',
  length: 'test/dbt/jinja.test.ts (cols() | length)',
  replace: 'context-functions.test.ts (a placeholder in a get_where_subquery override)',
  lower: 'test/dbt/incremental.test.ts (has_column on a watermark of an earlier release)',
  // generic tests
  unique: 'manifest.test.ts, test/dbt/errors.test.ts',
  not_null: 'config.test.ts (enabled: false), manifest.test.ts',
  accepted_values: 'config.test.ts (top-level config keys, path-scoped data_tests config)',
  relationships: 'test/dbt/gold.test.ts (the project builds and its tests pass)',
  unique_combination_of_columns: 'test/dbt/gold.test.ts (arguments: form)',
};

async function projectJinja(): Promise<{
  calls: Set<string>;
  tags: Set<string>;
  filters: Set<string>;
  defined: Set<string>;
}> {
  const calls = new Set<string>();
  const tags = new Set<string>();
  const filters = new Set<string>();
  const defined = new Set<string>();
  for (const dir of ['models', 'macros', 'tests']) {
    for (const file of await listFiles(path.join(DBT_PROJECT, dir), '.sql')) {
      const text = (await readFile(file, 'utf8')).replace(/\{#[\s\S]*?#\}/g, '');
      for (const m of text.matchAll(/\{%-?\s*(macro|test)\s+(\w+)/g))
        defined.add(m[1] === 'test' ? `${m[2]}` : (m[2] as string));
      for (const block of text.matchAll(/\{\{-?([\s\S]*?)-?\}\}|\{%-?([\s\S]*?)-?%\}/g)) {
        const body = (block[1] ?? block[2] ?? '').replace(/'[^']*'|"[^"]*"/g, "''");
        if (block[2] !== undefined) tags.add(body.trim().split(/\s+/)[0] as string);
        for (const m of body.matchAll(/([A-Za-z_][\w.]*)\s*\(/g)) calls.add(m[1] as string);
        for (const m of body.matchAll(/\|\s*(\w+)/g)) filters.add(m[1] as string);
      }
    }
  }
  return { calls, tags, filters, defined };
}

async function projectGenericTests(): Promise<Set<string>> {
  const names = new Set<string>();
  const visit = (list: unknown): void => {
    for (const entry of Array.isArray(list) ? list : []) {
      names.add(typeof entry === 'string' ? entry : (Object.keys(entry as object)[0] as string));
    }
  };
  for (const file of await listFiles(path.join(DBT_PROJECT, 'models'), '.yml')) {
    const doc = YAML.parse(await readFile(file, 'utf8')) as Record<string, Record<string, unknown>[]>;
    for (const r of [
      ...(doc.models ?? []),
      ...(doc.sources ?? []).flatMap((s) => (s.tables ?? []) as Record<string, unknown>[]),
    ]) {
      visit(r.data_tests);
      for (const c of (r.columns ?? []) as Record<string, unknown>[]) visit(c.data_tests);
    }
  }
  return names;
}

describe("the project's own constructs", () => {
  it('each Jinja function, tag and filter the project uses has a conformance case', async () => {
    const { calls, tags, filters, defined } = await projectJinja();
    const ends = (t: string): boolean => t.startsWith('end');
    const used = [
      ...[...calls].filter((c) => !defined.has(c) && !defined.has(c.split('.').pop() as string)),
      ...[...tags].filter((t) => !ends(t)),
      ...filters,
    ];
    expect(used.length).toBeGreaterThan(5);
    expect(used.filter((c) => !(c in COVERED))).toEqual([]);
  });

  it('each generic test the properties files use has a conformance case', async () => {
    const tests = [...(await projectGenericTests())];
    expect(tests.length).toBeGreaterThan(3);
    expect(tests.filter((t) => !(t in COVERED))).toEqual([]);
  });
});
