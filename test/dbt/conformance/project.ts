/**
 * A small dbt project in a temp directory, built from a few files, and an in-memory DuckDB to run it on:
 * each conformance case writes the construct it checks into it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import {
  runDbt,
  runSourceFreshness,
  type Command,
  type DbtRunResult,
} from '../../../localstack/dbt/index.ts';

export const BASE_FILES: Readonly<Record<string, string>> = {
  'dbt_project.yml': [
    'name: conf',
    "version: '1.0.0'",
    'config-version: 2',
    'profile: conf',
    'models:',
    '  conf:',
    '    +materialized: table',
    '',
  ].join('\n'),
  'macros/generate_schema_name.sql':
    '{% macro generate_schema_name(custom_schema_name, node) -%}{%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}{%- endmacro %}',
  'models/staging/stg_a.sql': "select 1 as id, 'x' as v union all select 2 as id, 'y' as v",
  'models/marts/m.sql': "select * from {{ ref('stg_a') }}",
  'models/marts/n.sql': "select * from {{ ref('m') }}",
  'models/marts/o.sql': "select * from {{ ref('n') }}",
  'models/other.sql': "select id from {{ ref('stg_a') }}",
};

export interface Sandbox {
  readonly dir: string;
  readonly project: string;
  readonly connection: DuckDBConnection;
  readonly lines: string[];
  write(files: Readonly<Record<string, string>>): Promise<void>;
  run(command?: Command, extra?: { select?: string[]; fullRefresh?: boolean }): Promise<DbtRunResult>;
  freshness(now: Date): ReturnType<typeof runSourceFreshness>;
  close(): Promise<void>;
}

export async function sandbox(files: Readonly<Record<string, string>> = {}): Promise<Sandbox> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dbt-conformance-'));
  const project = path.join(dir, 'project');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const lines: string[] = [];
  const write = async (more: Readonly<Record<string, string>>): Promise<void> => {
    for (const [file, text] of Object.entries(more)) {
      await mkdir(path.dirname(path.join(project, file)), { recursive: true });
      await writeFile(path.join(project, file), text);
    }
  };
  await write({ ...BASE_FILES, ...files });
  const targetDir = path.join(dir, 'target');
  return {
    dir,
    project,
    connection,
    lines,
    write,
    run: (command = 'build', extra = {}) =>
      runDbt({ projectDir: project, connection, command, targetDir, log: (l) => lines.push(l), ...extra }),
    freshness: (now) =>
      runSourceFreshness({ projectDir: project, connection, now, targetDir, log: (l) => lines.push(l) }),
    close: async () => {
      connection.closeSync();
      instance.closeSync();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The refusal every unsupported construct gives, naming it and where it is. */
export const refused = (construct: string, where: string): RegExp =>
  new RegExp(
    `${construct.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} at ${where.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not supported by the embedded runner; run dbt-core for it`,
  );

export const statusOf = (result: DbtRunResult, uniqueIdPart: string): string | undefined =>
  result.runResults.results.find((r) => r.unique_id.includes(uniqueIdPart))?.status;
