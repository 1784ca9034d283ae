/**
 * Shared test helpers: a temp DuckDB with Bronze, reading a warehouse table in the reference's value shapes,
 * and a row-by-row comparison on the table's key with a float tolerance.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { runDbt, type DbtRunResult } from '../../localstack/dbt/index.ts';
import { PROJECT_ROOT } from '../../localstack/paths.ts';
import { createBronze } from './dataset.ts';
import type { Row, Value } from './reference.ts';

export const DBT_PROJECT = path.join(PROJECT_ROOT, 'dbt');

export interface TempWarehouse {
  readonly dir: string;
  readonly connection: DuckDBConnection;
  close(): Promise<void>;
}

/** `dbt build` (with `--full-refresh` when asked) of the project on a temp warehouse, its target/ in the warehouse's directory. */
export function buildProject(wh: TempWarehouse, fullRefresh = false): Promise<DbtRunResult> {
  return runDbt({
    projectDir: DBT_PROJECT,
    connection: wh.connection,
    command: 'build',
    fullRefresh,
    targetDir: wh.dir,
  });
}

/** The nodes of a run that neither succeeded nor passed, one line each: [] for a clean build. */
export function unsuccessful(build: DbtRunResult): string[] {
  return build.runResults.results
    .filter((r) => r.status !== 'success' && r.status !== 'pass')
    .map((r) => `${r.unique_id}: ${r.status} ${r.message}`);
}

/** An in-memory DuckDB with the Bronze schema, and a temp directory for dbt's target/. */
export async function tempWarehouse(): Promise<TempWarehouse> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dbt-test-'));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await createBronze(connection);
  return {
    dir,
    connection,
    close: async () => {
      connection.closeSync();
      instance.closeSync();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A copy of the dbt project in a temp directory, to break on purpose. */
export async function projectCopy(dir: string): Promise<string> {
  const target = path.join(dir, 'project');
  await cp(DBT_PROJECT, target, { recursive: true, filter: (src) => !src.includes(`${path.sep}target`) });
  return target;
}

function normalize(column: string, value: unknown): Value {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date)
    return /date$/.test(column) ? value.toISOString().slice(0, 10) : value.toISOString();
  if (typeof value === 'number' || typeof value === 'string') return value;
  return String(value);
}

/**
 * Columns that hold when a run merged a row (Silver's merged_at, carried by listener_events; the watermark's
 * merged_through): they differ between an incremental build and a full refresh by design, so table
 * comparisons leave them out.
 */
const RUN_TIME_COLUMNS: ReadonlySet<string> = new Set(['merged_at', 'merged_through']);

/** A table's rows, values normalized, without its run-time columns (RUN_TIME_COLUMNS). */
export async function readTable(conn: DuckDBConnection, relation: string): Promise<Row[]> {
  const reader = await conn.runAndReadAll(`select * from ${relation}`);
  return reader.getRowObjectsJS().map((r) => {
    const row: Row = {};
    for (const [k, v] of Object.entries(r)) if (!RUN_TIME_COLUMNS.has(k)) row[k] = normalize(k, v);
    return row;
  });
}

const keyOf = (row: Row, key: readonly string[]): string => key.map((k) => String(row[k])).join('|');

/** Differences between two row sets compared on `key` (empty when equal); floats within 1e-9 relative. */
export function diffRows(actual: readonly Row[], expected: readonly Row[], key: readonly string[]): string[] {
  const problems: string[] = [];
  const byKey = new Map(expected.map((r) => [keyOf(r, key), r]));
  if (actual.length !== expected.length)
    problems.push(`row count ${actual.length} != expected ${expected.length}`);
  for (const row of actual) {
    const want = byKey.get(keyOf(row, key));
    if (!want) {
      problems.push(`unexpected row ${JSON.stringify(row)}`);
      continue;
    }
    const columns = new Set([...Object.keys(row), ...Object.keys(want)]);
    for (const c of columns) {
      const a = row[c];
      const b = want[c];
      const equal =
        typeof a === 'number' && typeof b === 'number'
          ? Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b))
          : a === b;
      if (!equal)
        problems.push(`${keyOf(row, key)}.${c}: ${JSON.stringify(a)} != expected ${JSON.stringify(b)}`);
    }
    if (problems.length > 20) break;
  }
  return problems;
}
