/**
 * The SQL each target gets from the dialect macros: Silver's timestamps are TIMESTAMP_NTZ on Snowflake (its
 * plain TIMESTAMP follows the account's TIMESTAMP_TYPE_MAPPING) and timestamp on DuckDB and Postgres, and no
 * target's Silver uses QUALIFY (Postgres has none).
 */
import { describe, expect, it } from 'vitest';
import type { TargetType } from '../../localstack/dbt/adapter.ts';
import { renderWithLookups, withRenderScope } from '../../localstack/dbt/context.ts';
import { loadProject } from '../../localstack/dbt/project.ts';
import { DBT_PROJECT } from './helpers.ts';

async function silverSql(target: TargetType, isIncremental: boolean): Promise<string> {
  const project = await loadProject({ projectDir: DBT_PROJECT, adapterType: target });
  const model = [...project.models.values()].find((m) => m.name === 'stg_spotify__events');
  if (!model) throw new Error('no stg_spotify__events');
  // An incremental run finds Silver as this release builds it (with merged_at).
  const relations = new Map([['silver.stg_spotify__events', 'table' as const]]);
  return renderWithLookups(
    relations,
    {
      columns: () => Promise.resolve([{ name: 'merged_at', type: 'TIMESTAMP' }]),
      query: () => Promise.reject(new Error('no warehouse to query')),
    },
    () =>
      withRenderScope(
        project.jinja,
        project.state,
        { node: model, execute: true, this: model.relation, isIncremental, relations },
        () => project.jinja.render(model.file, model.template),
      ),
  );
}

describe('dialect macros', () => {
  it.each([false, true])('Silver on Snowflake casts to timestamp_ntz (incremental: %s)', async (inc) => {
    const sql = await silverSql('snowflake', inc);
    expect(sql).toContain('cast(event_timestamp as timestamp_ntz) as event_timestamp');
    expect(sql).toContain('cast(loaded_at as timestamp_ntz) as loaded_at');
    expect(sql).toMatch(/cast\('\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}' as timestamp_ntz\) as merged_at/);
    expect(sql).not.toMatch(/as timestamp\)/);
  });

  it.each(['duckdb', 'postgres'] as const)('Silver on %s casts to timestamp, without QUALIFY', async (t) => {
    for (const inc of [false, true]) {
      const sql = await silverSql(t, inc);
      expect(sql).toContain('cast(event_timestamp as timestamp) as event_timestamp');
      expect(sql).toMatch(/cast\('[\d :.-]{26}' as timestamp\) as merged_at/);
      expect(sql).not.toMatch(/timestamp_ntz/);
      expect(sql).not.toMatch(/^\s*qualify\b/im);
    }
  });
});
