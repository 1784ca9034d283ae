/**
 * SQL text helpers. Identifiers that come from configuration are validated and quoted; values are either
 * bound parameters or literals escaped here. Nothing from outside is spliced into SQL any other way.
 */
import { ConfigError } from '../errors.ts';
import {
  ADDED_BRONZE_COLUMNS,
  BRONZE_COLUMNS,
  BRONZE_SCHEMAS,
  BRONZE_TABLE,
  MANIFEST_TABLE,
  type ColumnType,
  type LoadError,
  type ManifestEntry,
  type ManifestStatus,
  type Row,
} from './types.ts';

/** A plain SQL identifier: letters, digits, `_` and `$`, not starting with a digit or `$`. */
export const IDENTIFIER_RE = /^[A-Za-z_][A-Za-z0-9_$]{0,254}$/;

/** Validates an identifier from configuration; `setting` names where it came from for the error message. */
export function checkIdentifier(value: string, setting: string): string {
  if (!IDENTIFIER_RE.test(value)) {
    throw new ConfigError(
      setting,
      `${JSON.stringify(value)} is not a plain SQL identifier`,
      'Use letters, digits and underscores only, starting with a letter or underscore',
    );
  }
  return value;
}

/** A double-quoted identifier (validated first). */
export function quoteIdent(value: string, setting = 'identifier'): string {
  return `"${checkIdentifier(value, setting)}"`;
}

/** A single-quoted SQL string literal. */
export function sqlString(value: string): string {
  if (value.includes('\0')) throw new Error('a SQL string literal cannot contain NUL');
  return `'${value.replaceAll("'", "''")}'`;
}

/** The manifest columns, shared by DuckDB and Postgres (Snowflake maps the types in its own DDL). */
export const MANIFEST_COLUMNS_SQL = `object_key VARCHAR PRIMARY KEY,
  etag VARCHAR,
  status VARCHAR NOT NULL,
  rows_loaded BIGINT NOT NULL,
  error_count INTEGER NOT NULL,
  first_error VARCHAR,
  loaded_at TIMESTAMP NOT NULL`;

/**
 * DDL for DuckDB and Postgres: schemas, bronze.listening_events and bronze.load_manifest, then the
 * migration of a table created by an older version: `ADD COLUMN IF NOT EXISTS` for each column added since
 * (a no-op on a new table). Both engines document that form: PostgreSQL's ALTER TABLE, DuckDB's ALTER TABLE.
 */
export function bronzeDdl(typeName: (t: ColumnType) => string = (t) => t): string[] {
  const cols = BRONZE_COLUMNS.map((c) => `${c.name} ${typeName(c.type)}`).join(',\n  ');
  return [
    ...BRONZE_SCHEMAS.map((s) => `CREATE SCHEMA IF NOT EXISTS ${s}`),
    `CREATE TABLE IF NOT EXISTS bronze.${BRONZE_TABLE} (\n  ${cols}\n)`,
    ...ADDED_BRONZE_COLUMNS.map(
      (c) => `ALTER TABLE bronze.${BRONZE_TABLE} ADD COLUMN IF NOT EXISTS ${c.name} ${typeName(c.type)}`,
    ),
    `CREATE TABLE IF NOT EXISTS bronze.${MANIFEST_TABLE} (\n  ${MANIFEST_COLUMNS_SQL}\n)`,
  ];
}

/** A manifest row as read back from any engine (column names lower-case). */
export function manifestEntryFromRow(row: Row): ManifestEntry {
  const get = (name: string): unknown => row[name] ?? row[name.toUpperCase()];
  return {
    key: String(get('object_key')),
    etag: (get('etag') as string | null) ?? null,
    status: String(get('status')) as ManifestStatus,
    rowsLoaded: Number(get('rows_loaded')),
    errorCount: Number(get('error_count')),
    firstError: (get('first_error') as string | null) ?? null,
    loadedAt: String(get('loaded_at')),
  };
}

/** The manifest's `first_error` text for an object's errors. */
export function firstErrorText(errors: readonly LoadError[]): string | null {
  const first = errors[0];
  if (!first) return null;
  return first.line ? `line ${first.line}: ${first.message}` : first.message;
}

/** An ISO instant as a naive UTC timestamp literal body ('YYYY-MM-DD HH:MM:SS.sss'). */
export function utcTimestampText(instant: Date): string {
  return instant.toISOString().replace('T', ' ').replace('Z', '');
}

/** Splits a list into chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
