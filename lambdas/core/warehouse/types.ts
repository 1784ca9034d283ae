/**
 * The warehouse port: what the Bronze loader, dbt runner, reconciliation and dashboard need from a warehouse.
 * One adapter per engine (DuckDB embedded, Postgres, Snowflake); the loader only talks to this interface.
 */
import { TransientError } from '../errors.ts';

export type Row = Record<string, unknown>;

export type WarehouseKind = 'duckdb' | 'postgres' | 'snowflake';

/**
 * What happens to an object with bad lines, named after Snowflake's COPY option:
 * - CONTINUE: load the good lines, report every bad line, mark the object `partial`;
 * - SKIP_FILE: load nothing of the object, mark it `failed`;
 * - ABORT_STATEMENT: load nothing of the batch, record nothing; the next run meets the object again.
 */
export const ON_ERROR_POLICIES = ['CONTINUE', 'SKIP_FILE', 'ABORT_STATEMENT'] as const;
export type OnErrorPolicy = (typeof ON_ERROR_POLICIES)[number];

export type ManifestStatus = 'loaded' | 'partial' | 'failed';

/** One row of `bronze.load_manifest`: an object the loader has dealt with. */
export interface ManifestEntry {
  readonly key: string;
  readonly etag: string | null;
  readonly status: ManifestStatus;
  readonly rowsLoaded: number;
  readonly errorCount: number;
  readonly firstError: string | null;
  /** ISO-8601 UTC. */
  readonly loadedAt: string;
}

/** A problem with one object, or one line of it (1-based). */
export interface LoadError {
  readonly key: string;
  readonly line?: number;
  readonly message: string;
}

export interface ObjectToLoad {
  readonly key: string;
  readonly etag: string | undefined;
  /** The manifest holds a `failed` entry for this key with another etag; the load replaces it. */
  readonly replacesFailed: boolean;
}

export interface LoadBatch {
  readonly objects: readonly ObjectToLoad[];
  /** Reads an object's bytes (the S3 SDK); adapters that load from a stage (Snowflake) do not call it. */
  readonly fetch: (key: string) => Promise<Uint8Array>;
  readonly onError: OnErrorPolicy;
}

export type ObjectOutcomeStatus =
  | ManifestStatus
  /** Another loader recorded the object first; nothing was loaded by this one. */
  | 'concurrent'
  /** ON_ERROR = ABORT_STATEMENT stopped the batch; nothing was loaded or recorded. */
  | 'aborted';

export interface ObjectOutcome {
  readonly key: string;
  readonly status: ObjectOutcomeStatus;
  readonly rowsLoaded: number;
  /** Bad lines (capped per object, see MAX_LINE_ERRORS_PER_OBJECT) or the reason the object failed. */
  readonly errors: readonly LoadError[];
}

/** Line errors reported per object; the manifest keeps the total count and the first one. */
export const MAX_LINE_ERRORS_PER_OBJECT = 20;

export interface Warehouse {
  readonly kind: WarehouseKind;
  /**
   * Read query with positional $1..$n parameters. BIGINT/DECIMAL -> number (when safe), TIMESTAMP -> ISO string
   * 'YYYY-MM-DDTHH:MM:SS.sssZ', DATE -> 'YYYY-MM-DD', NULL -> null.
   */
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /**
   * Makes sure schemas bronze/silver/gold, bronze.listening_events and the load manifest are there before a
   * load: DuckDB and Postgres create them if missing; Snowflake only checks them and fails naming its
   * one-time setup SQL (a load there runs no DDL).
   */
  ensureBronze(): Promise<void>;
  /** The manifest entries of those keys that have one. */
  manifestEntries(keys: readonly string[]): Promise<Map<string, ManifestEntry>>;
  /**
   * Loads a batch of Bronze objects in bulk and records each in the manifest in the same transaction.
   * Throws LoadConflictError when another loader recorded one of the objects first and the engine could
   * only tell at commit (nothing of the batch is kept then; the caller re-reads the manifest and retries).
   */
  loadObjects(batch: LoadBatch): Promise<ObjectOutcome[]>;
  close(): Promise<void>;
}

/** Another loader committed some of the same objects first; the batch was rolled back. */
export class LoadConflictError extends TransientError {}

/** The Bronze table and manifest, in the column order every adapter uses. */
export const BRONZE_SCHEMAS = ['bronze', 'silver', 'gold'] as const;
export const BRONZE_TABLE = 'listening_events';
export const MANIFEST_TABLE = 'load_manifest';

export type ColumnType = 'VARCHAR' | 'TIMESTAMP' | 'BIGINT' | 'INTEGER';

/** A column of bronze.listening_events and the Bronze-object field it comes from (docs/data-model.md). */
export interface BronzeColumn {
  readonly name: string;
  readonly type: ColumnType;
  /** The field in a Bronze line; undefined for the columns the loader fills (lineage, load time). */
  readonly field?: string;
}

export const BRONZE_COLUMNS: readonly BronzeColumn[] = [
  { name: 'event_id', type: 'VARCHAR', field: 'event_id' },
  { name: 'user_id', type: 'VARCHAR', field: 'user_id' },
  { name: 'song_id', type: 'VARCHAR', field: 'song_id' },
  { name: 'artist_name', type: 'VARCHAR', field: 'artist_name' },
  { name: 'song_name', type: 'VARCHAR', field: 'song_name' },
  { name: 'event_type', type: 'VARCHAR', field: 'event_type' },
  { name: 'device_type', type: 'VARCHAR', field: 'device_type' },
  { name: 'country', type: 'VARCHAR', field: 'country' },
  { name: 'event_timestamp', type: 'TIMESTAMP', field: 'timestamp' },
  { name: 'duration_ms', type: 'BIGINT', field: 'duration_ms' },
  { name: 'schema_version', type: 'INTEGER', field: 'schema_version' },
  { name: 'kafka_topic', type: 'VARCHAR', field: '_topic' },
  { name: 'kafka_partition', type: 'INTEGER', field: '_partition' },
  { name: 'kafka_offset', type: 'BIGINT', field: '_offset' },
  { name: 'kafka_timestamp', type: 'TIMESTAMP', field: '_kafka_timestamp' },
  { name: 'source_file', type: 'VARCHAR' },
  { name: 'source_row', type: 'BIGINT' },
  { name: 'loaded_at', type: 'TIMESTAMP' },
  // Contract version 2's fields, null on a version-1 line (and where a source does not know them). Last, so
  // a table created by an older version and migrated by ADD COLUMN (bronzeMigrations) has the same column
  // order as a new one.
  { name: 'album_name', type: 'VARCHAR', field: 'album_name' },
  { name: 'track_length_ms', type: 'BIGINT', field: 'track_length_ms' },
  { name: 'source', type: 'VARCHAR', field: 'source' },
];

/** Columns added after the first release of bronze.listening_events: existing tables gain them by ADD COLUMN. */
export const ADDED_BRONZE_COLUMNS: readonly BronzeColumn[] = BRONZE_COLUMNS.filter((c) =>
  ['album_name', 'track_length_ms', 'source'].includes(c.name),
);

/** The columns read from a Bronze line. */
export const EVENT_COLUMNS = BRONZE_COLUMNS.filter(
  (c): c is BronzeColumn & { field: string } => c.field !== undefined,
);

/** Every column in the order a load writes them: a line's fields (EVENT_COLUMNS), then source_file, source_row, loaded_at. */
export const LOAD_COLUMNS: readonly BronzeColumn[] = [
  ...EVENT_COLUMNS,
  ...BRONZE_COLUMNS.filter((c) => c.field === undefined),
];
