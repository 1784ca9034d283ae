/**
 * The embedded runner's connection to a warehouse: the few statements whose spelling differs between DuckDB
 * and Postgres (replacing a table or view, a temporary table, a relation's columns), and plain statements
 * and row reads. dbt-postgres builds a table as a new relation swapped in for the old one in a transaction;
 * here the old one is dropped and the new one created in one transaction, which readers see the same way
 * (Postgres DDL is transactional: https://wiki.postgresql.org/wiki/Transactional_DDL_in_PostgreSQL:_A_Competitive_Analysis).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type pg from 'pg';
import type { Relation } from './nodes.ts';

export type AdapterType = 'duckdb' | 'postgres';
/** What a project may be compiled for (dbt's target.type); Snowflake only to read the SQL it would get. */
export type TargetType = AdapterType | 'snowflake';

export interface DbtAdapter {
  /** dbt's `target.type`: what `adapter.dispatch` looks for first (`<type>__<macro>`). */
  readonly type: AdapterType;
  /** Runs a statement; the rows it changed (0 for DDL). */
  run(sql: string): Promise<number>;
  /** Runs a query; its rows, each as an array of column values in order. */
  rows(sql: string): Promise<unknown[][]>;
  /** Runs a query; its column names and rows (dbt's run_query). */
  query(sql: string): Promise<{ names: string[]; rows: unknown[][] }>;
  /** Replaces `target` with a table (or a view) of `sql`, whatever was there, in one transaction. */
  replaceRelation(kind: 'table' | 'view', target: Relation, sql: string): Promise<void>;
  /** A temporary table of `sql`, replacing one of that name. */
  createTempTable(name: string, sql: string): Promise<void>;
  /** Column names and data types in order (dbt's adapter.get_columns_in_relation). */
  columns(relation: string): Promise<{ name: string; type: string }[]>;
  /** Stops the statement running on this connection (a fail-fast run stops the other threads). */
  interrupt?(): void;
  /** Closes a connection the run opened for a thread of its own. */
  close?(): void;
}

/** A DuckDB connection, or an adapter already. */
export type DbtConnection = DuckDBConnection | DbtAdapter;

export function dbtAdapter(connection: DbtConnection): DbtAdapter {
  return 'runAndReadAll' in connection ? duckDbAdapter(connection) : connection;
}

export function duckDbAdapter(conn: DuckDBConnection): DbtAdapter {
  return {
    type: 'duckdb',
    run: async (sql) => Number((await conn.run(sql)).rowsChanged),
    rows: async (sql) => (await conn.runAndReadAll(sql)).getRows() as unknown[][],
    query: async (sql) => {
      const reader = await conn.runAndReadAll(sql);
      return { names: reader.columnNames(), rows: reader.getRows() as unknown[][] };
    },
    replaceRelation: async (kind, target, sql) => {
      await conn.run(`create or replace ${kind} ${target.toString()} as (\n${sql}\n)`);
    },
    createTempTable: async (name, sql) => {
      await conn.run(`create or replace temp table ${name} as (\n${sql}\n)`);
    },
    columns: async (relation) =>
      (await conn.runAndReadAll(`describe ${relation}`))
        .getRows()
        .map((r) => ({ name: String(r[0]), type: String(r[1]) })),
    interrupt: () => conn.interrupt(),
    close: () => conn.closeSync(),
  };
}

/**
 * One Postgres session (temporary tables live as long as it does). `create or replace table` does not exist
 * there, and `create or replace view` cannot drop a column, so both drop and create in a transaction; a drop
 * cascades to views built on the relation, as dbt-postgres's swap does.
 */
export function postgresDbtAdapter(client: pg.ClientBase): DbtAdapter {
  const run = async (sql: string): Promise<number> => (await client.query(sql)).rowCount ?? 0;
  const inTransaction = async (statements: readonly string[]): Promise<void> => {
    await run('begin');
    try {
      for (const s of statements) await run(s);
      await run('commit');
    } catch (err) {
      await run('rollback').catch(() => undefined);
      throw err;
    }
  };
  return {
    type: 'postgres',
    run,
    rows: async (sql) => (await client.query({ text: sql, rowMode: 'array' })).rows as unknown[][],
    query: async (sql) => {
      const res = await client.query({ text: sql, rowMode: 'array' });
      return { names: (res.fields ?? []).map((f) => f.name), rows: res.rows as unknown[][] };
    },
    replaceRelation: async (kind, target, sql) => {
      const existing = await client.query<{ relkind: string }>(
        `select c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = $1 and c.relname = $2`,
        [target.schema, target.identifier],
      );
      const relkind = existing.rows[0]?.relkind;
      const drop =
        relkind === undefined ? [] : [`drop ${relkind === 'v' ? 'view' : 'table'} ${target} cascade`];
      await inTransaction([...drop, `create ${kind} ${target.toString()} as (\n${sql}\n)`]);
    },
    createTempTable: async (name, sql) => {
      await run(`drop table if exists pg_temp.${name}`);
      await run(`create temp table ${name} as (\n${sql}\n)`);
    },
    columns: async (relation) => {
      const res = await client.query<{ name: string; type: string }>(
        `select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
          where attrelid = $1::regclass and attnum > 0 and not attisdropped order by attnum`,
        [relation],
      );
      return res.rows;
    },
  };
}
