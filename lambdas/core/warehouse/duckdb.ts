/**
 * The embedded default warehouse: a DuckDB file under the local data directory.
 *
 * Bulk path: each object is gunzipped (read through the S3 SDK; httpfs is not available offline), written
 * to a temporary NDJSON file, and the whole batch goes in with one `INSERT ... SELECT ... FROM read_ndjson`
 * with explicit column types. `read_ndjson` has no line-number column, so `source_row` comes from
 * `row_number() OVER ()` (DuckDB keeps file and line order for it) minus the first row number of the file;
 * that is exact only for files whose lines are all non-empty records, which `decodeObject` checks, and the
 * inserted row count is verified against the line count. When DuckDB rejects the batch, the objects are
 * validated line by line in JavaScript and loaded according to the ON_ERROR policy with explicit line numbers.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance, DuckDBValue } from '@duckdb/node-api';
import { MdsError, errorMessage } from '../errors.ts';
import { decodeObject, mapLimit, validateLines, type DecodedObject } from './bronze-lines.ts';
import {
  bronzeDdl,
  chunks,
  firstErrorText,
  manifestEntryFromRow,
  sqlString,
  utcTimestampText,
} from './sql.ts';
import {
  LOAD_COLUMNS,
  BRONZE_TABLE,
  EVENT_COLUMNS,
  LoadConflictError,
  MANIFEST_TABLE,
  type LoadBatch,
  type LoadError,
  type ManifestEntry,
  type ManifestStatus,
  type ObjectOutcome,
  type ObjectToLoad,
  type Row,
  type Warehouse,
} from './types.ts';

export interface DuckDbWarehouse extends Warehouse {
  readonly kind: 'duckdb';
  readonly path: string;
  /** This warehouse's connection, for in-process sharing (a DuckDB file admits one writer process). */
  readonly connection: DuckDBConnection;
  /** Another connection to the same database (the caller closes it), e.g. one per dbt thread. */
  connect(): Promise<DuckDBConnection>;
}

export interface DuckDbOptions {
  /** The database file (its directory is created), or ':memory:'. */
  readonly path: string;
  readonly readOnly?: boolean;
  /** DuckDB's memory_limit for the instance; @default DUCKDB_MEMORY_LIMIT */
  readonly memoryLimit?: string;
}

/**
 * What DuckDB may hold in memory before it spills to its temp directory (`<file>.tmp` beside the database):
 * without it DuckDB takes up to 80% of the machine's RAM and keeps what it took, so the hourly build over a
 * growing Silver grew the local pipeline's memory with the history. Aggregates, joins, sorts and window
 * functions spill above it (https://duckdb.org/docs/current/guides/performance/how_to_tune_workloads). Set
 * MDS_DUCKDB_MEMORY_LIMIT (e.g. `2GB`) to give it more. preserve_insertion_order stays on: the loader's
 * `row_number() OVER ()` relies on file and line order.
 */
export const DUCKDB_MEMORY_LIMIT = '256MB';

/**
 * How DuckDB's allocator gives memory back. Its Linux builds allocate through a jemalloc of their own
 * (https://duckdb.org/docs/current/internals/jemalloc), which keeps the pages a query freed for reuse and
 * only purges them as they age, from the thread that next allocates; memory_limit bounds the buffer
 * manager, not what jemalloc holds on top of it. So after RunDbt's big queries over a growing Silver the
 * process kept hundreds of MiB it no longer used, and its peak grew with the history. With background
 * threads jemalloc purges them on its own ("Background threads asynchronously purge outstanding
 * allocations", the same page), and a thread whose task allocated more than allocator_flush_threshold
 * flushes its cache when the task ends (duckdb_settings(): "Peak allocation threshold at which to flush
 * the allocator after completing a task", 128 MiB by default). Both are process-wide in effect: jemalloc
 * is one per process, whichever instance sets them.
 */
export const DUCKDB_ALLOCATOR_SETTINGS = {
  allocator_background_threads: 'true',
  allocator_flush_threshold: '32MB',
} as const;

/**
 * The DuckDB binding, loaded on first use: it is a native add-on that only a laptop has (in a Lambda bundle
 * it stays external and is provided by the local runtime's `duckdb` layer), so importing this module must
 * not need it.
 */
let duckdb: typeof import('@duckdb/node-api') | undefined;

async function binding(): Promise<typeof import('@duckdb/node-api')> {
  duckdb ??= await import('@duckdb/node-api');
  return duckdb;
}

/** One instance per file and mode in this process, shared by every warehouse opened on it. */
const instances = new Map<string, { instance: DuckDBInstance; refs: number }>();

export async function openDuckDbWarehouse(options: DuckDbOptions): Promise<DuckDbWarehouse> {
  const file = options.path === ':memory:' ? options.path : path.resolve(options.path);
  const mode = options.readOnly ? 'READ_ONLY' : 'READ_WRITE';
  const cacheKey = `${mode}:${file}`;
  let shared = instances.get(cacheKey);
  if (!shared || file === ':memory:') {
    if (file !== ':memory:') await mkdir(path.dirname(file), { recursive: true });
    let instance: DuckDBInstance;
    try {
      const memoryLimit = options.memoryLimit ?? process.env.MDS_DUCKDB_MEMORY_LIMIT ?? DUCKDB_MEMORY_LIMIT;
      instance = await (
        await binding()
      ).DuckDBInstance.create(file, {
        access_mode: mode,
        memory_limit: memoryLimit,
        ...DUCKDB_ALLOCATOR_SETTINGS,
      });
    } catch (err) {
      throw openError(file, err);
    }
    shared = { instance, refs: 0 };
    if (file !== ':memory:') instances.set(cacheKey, shared);
  }
  shared.refs++;
  const owner = shared;
  const connect = async (): Promise<DuckDBConnection> => {
    const connection = await owner.instance.connect();
    // Bronze timestamps are naive UTC; the session zone decides how now() and TIMESTAMPTZ casts render.
    await connection.run("SET TimeZone = 'UTC'");
    return connection;
  };
  return new DuckDb(file, await connect(), connect, async () => {
    owner.refs--;
    if (owner.refs === 0) {
      instances.delete(cacheKey);
      owner.instance.closeSync();
    }
  });
}

function openError(file: string, err: unknown): MdsError {
  const message = errorMessage(err);
  if (/lock/i.test(message)) {
    const pid = /PID (\d+)/.exec(message)?.[1];
    return new MdsError(
      `the warehouse file ${file} is in use by another process (pid ${pid ?? 'unknown'}?); ` +
        'stop that process (a running `mds` command or a dbt run) and try again',
      { cause: err },
    );
  }
  return new MdsError(`cannot open the DuckDB warehouse ${file}: ${message}`, { cause: err });
}

/** A prepared object: what goes into the batch's INSERT and what the manifest records. */
interface Planned {
  readonly object: ObjectToLoad;
  status: ManifestStatus;
  rows: number;
  errors: LoadError[];
  errorCount: number;
  /** NDJSON to load; `explicitRows` when each line carries its own `__source_row`. */
  text?: Buffer;
  explicitRows: boolean;
  decoded: DecodedObject;
}

const FETCH_CONCURRENCY = 8;

class DuckDb implements DuckDbWarehouse {
  readonly kind = 'duckdb' as const;

  constructor(
    readonly path: string,
    readonly connection: DuckDBConnection,
    readonly connect: () => Promise<DuckDBConnection>,
    private readonly release: () => Promise<void>,
  ) {}

  async query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const reader = await this.connection.runAndReadAll(sql, params.map(toDuckDbParam));
    return reader.getRowObjects().map((row) => {
      const out: Row = {};
      for (const [k, v] of Object.entries(row)) out[k] = fromDuckDb(v);
      return out as T;
    });
  }

  async ensureBronze(): Promise<void> {
    // Two connections creating the same schema at once meet a catalog write-write conflict; the loser retries
    // and then finds everything in place.
    for (let attempt = 0; ; attempt++) {
      try {
        for (const stmt of bronzeDdl()) await this.connection.run(stmt);
        return;
      } catch (err) {
        if (attempt >= 5 || !/write-write conflict/i.test(errorMessage(err))) throw err;
      }
    }
  }

  async manifestEntries(keys: readonly string[]): Promise<Map<string, ManifestEntry>> {
    const out = new Map<string, ManifestEntry>();
    for (const part of chunks(keys, 1000)) {
      if (part.length === 0) continue;
      const rows = await this.query(
        `SELECT object_key, etag, status, rows_loaded, error_count, first_error, loaded_at
         FROM bronze.${MANIFEST_TABLE} WHERE object_key IN (${part.map(sqlString).join(', ')})`,
      );
      for (const r of rows) {
        const e = manifestEntryFromRow(r);
        out.set(e.key, e);
      }
    }
    return out;
  }

  async loadObjects(batch: LoadBatch): Promise<ObjectOutcome[]> {
    const planned: Planned[] = await mapLimit(batch.objects, FETCH_CONCURRENCY, async (object) => {
      const decoded = await decodeObject(await batch.fetch(object.key));
      const p: Planned = {
        object,
        status: 'loaded',
        rows: 0,
        errors: [],
        errorCount: 0,
        explicitRows: false,
        decoded,
      };
      if (!decoded.ok) {
        p.status = 'failed';
        p.errors = [{ key: object.key, message: decoded.error }];
        p.errorCount = 1;
      } else if (decoded.regular) {
        p.text = decoded.text;
        p.rows = decoded.lines;
      } else {
        applyValidation(p, batch.onError);
      }
      return p;
    });
    if (batch.onError === 'ABORT_STATEMENT' && planned.some((p) => p.errorCount > 0)) return aborted(planned);

    const dir = await mkdtemp(path.join(os.tmpdir(), 'mds-duckdb-load-'));
    try {
      try {
        return await this.commit(planned, dir);
      } catch (err) {
        if (err instanceof LoadConflictError) throw err;
        // DuckDB rejected something in the bulk path: find the bad lines ourselves, then load again.
        for (const p of planned)
          if (p.decoded.ok && !p.explicitRows && p.text) applyValidation(p, batch.onError);
        if (batch.onError === 'ABORT_STATEMENT' && planned.some((p) => p.errorCount > 0))
          return aborted(planned);
      }
      try {
        return await this.commit(planned, dir);
      } catch (err) {
        if (err instanceof LoadConflictError || planned.length === 1) throw err;
      }
      // Still rejected although every line passed validation: isolate the object DuckDB refuses.
      const out: ObjectOutcome[] = [];
      for (const p of planned) {
        try {
          out.push(...(await this.commit([p], dir)));
        } catch (err) {
          if (err instanceof LoadConflictError) throw err;
          p.status = 'failed';
          p.rows = 0;
          p.text = undefined;
          p.errors = [{ key: p.object.key, message: `rejected by DuckDB: ${errorMessage(err)}` }];
          p.errorCount = 1;
          out.push(...(await this.commit([p], dir)));
        }
      }
      return out;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** One transaction: the batch's rows and its manifest entries. */
  private async commit(planned: readonly Planned[], dir: string): Promise<ObjectOutcome[]> {
    const loadedAt = new Date();
    const files: { file: string; key: string; firstRow: number }[] = [];
    let expected = 0;
    for (const p of planned) {
      if (!p.text || p.rows === 0) continue;
      const file = path.join(dir, `${files.length}.ndjson`);
      await writeFile(file, p.text);
      files.push({ file, key: p.object.key, firstRow: expected + 1 });
      expected += p.rows;
    }
    await this.connection.run('BEGIN TRANSACTION');
    try {
      if (files.length > 0) {
        const result = await this.connection.run(insertSql(files, loadedAt));
        if (Number(result.rowsChanged) !== expected) {
          throw new Error(`read ${result.rowsChanged} records where the objects hold ${expected} lines`);
        }
      }
      const replaced = planned.filter((p) => p.object.replacesFailed).map((p) => sqlString(p.object.key));
      if (replaced.length > 0) {
        await this.connection.run(
          `DELETE FROM bronze.${MANIFEST_TABLE} WHERE status = 'failed' AND object_key IN (${replaced.join(', ')})`,
        );
      }
      await this.connection.run(manifestInsertSql(planned, loadedAt));
      await this.connection.run('COMMIT');
    } catch (err) {
      await this.connection.run('ROLLBACK').catch(() => undefined);
      if (/PRIMARY KEY|UNIQUE constraint|Duplicate key|conflict/i.test(errorMessage(err))) {
        throw new LoadConflictError('another loader recorded some of these objects first', { cause: err });
      }
      throw err;
    }
    return planned.map((p) => ({
      key: p.object.key,
      status: p.status,
      rowsLoaded: p.rows,
      errors: p.errors,
    }));
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    await this.release();
  }
}

/** Validates an object in JavaScript and prepares what the ON_ERROR policy loads of it. */
function applyValidation(p: Planned, onError: LoadBatch['onError']): void {
  if (!p.decoded.ok) return;
  const v = validateLines(p.object.key, p.decoded.text);
  p.errors = v.errors;
  p.errorCount = v.badLines;
  p.explicitRows = true;
  if (v.badLines > 0 && onError !== 'CONTINUE') {
    p.status = 'failed';
    p.rows = 0;
    p.text = undefined;
    return;
  }
  p.status = v.badLines > 0 ? 'partial' : 'loaded';
  p.rows = v.valid.length;
  p.text = Buffer.from(
    v.valid
      .map((line) => {
        const record: Record<string, unknown> = { __source_row: line.line };
        EVENT_COLUMNS.forEach((c, i) => (record[c.field] = line.values[i]));
        return JSON.stringify(record);
      })
      .join('\n') + '\n',
  );
}

function aborted(planned: readonly Planned[]): ObjectOutcome[] {
  return planned.map((p) => ({ key: p.object.key, status: 'aborted', rowsLoaded: 0, errors: p.errors }));
}

function insertSql(
  files: readonly { file: string; key: string; firstRow: number }[],
  loadedAt: Date,
): string {
  const columns = EVENT_COLUMNS.map((c) => `${sqlString(c.field)}: '${c.type}'`).join(', ');
  const select = EVENT_COLUMNS.map((c) => `j."${c.field}"`).join(', ');
  const fileMap = files
    .map((f) => `(${sqlString(f.file)}, ${sqlString(f.key)}, ${f.firstRow})`)
    .join(',\n    ');
  return `INSERT INTO bronze.${BRONZE_TABLE} (${LOAD_COLUMNS.map((c) => c.name).join(', ')})
SELECT ${select}, m.source_file, COALESCE(j.__source_row, j.__rn - m.first_row + 1),
       TIMESTAMP ${sqlString(utcTimestampText(loadedAt))}
FROM (
  SELECT row_number() OVER () AS __rn, *
  FROM read_ndjson([${files.map((f) => sqlString(f.file)).join(', ')}],
                   columns = {${columns}, '__source_row': 'BIGINT'}, filename = true, format = 'newline_delimited')
) j
JOIN (VALUES
    ${fileMap}
) m(file, source_file, first_row) ON j.filename = m.file`;
}

function manifestInsertSql(planned: readonly Planned[], loadedAt: Date): string {
  const ts = `TIMESTAMP ${sqlString(utcTimestampText(loadedAt))}`;
  const values = planned.map((p) => {
    const first = firstErrorText(p.errors);
    const firstError = first === null ? 'NULL' : sqlString(first);
    const etag = p.object.etag === undefined ? 'NULL' : sqlString(p.object.etag);
    return `(${sqlString(p.object.key)}, ${etag}, '${p.status}', ${p.rows}, ${p.errorCount}, ${firstError}, ${ts})`;
  });
  return `INSERT INTO bronze.${MANIFEST_TABLE}
  (object_key, etag, status, rows_loaded, error_count, first_error, loaded_at)
VALUES ${values.join(',\n  ')}`;
}

function toDuckDbParam(v: unknown): DuckDBValue {
  if (v instanceof Date) return v.toISOString();
  if (v === undefined) return null;
  return v as DuckDBValue;
}

/** Normalises a DuckDB value to the Warehouse.query contract. */
function fromDuckDb(v: DuckDBValue): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
  if (typeof v === 'bigint') return safeNumber(v);
  // A value of another type comes from a connection, so the binding is loaded.
  const {
    DuckDBDateValue,
    DuckDBDecimalValue,
    DuckDBTimestampMillisecondsValue,
    DuckDBTimestampNanosecondsValue,
    DuckDBTimestampSecondsValue,
    DuckDBTimestampTZValue,
    DuckDBTimestampValue,
  } = duckdb!;
  if (v instanceof DuckDBDecimalValue) return v.toDouble();
  if (v instanceof DuckDBTimestampValue || v instanceof DuckDBTimestampTZValue)
    return isoFromMicros(v.micros);
  if (v instanceof DuckDBTimestampMillisecondsValue) return isoFromMicros(v.millis * 1000n);
  if (v instanceof DuckDBTimestampSecondsValue) return isoFromMicros(v.seconds * 1_000_000n);
  if (v instanceof DuckDBTimestampNanosecondsValue) return isoFromMicros(v.nanos / 1000n);
  if (v instanceof DuckDBDateValue) return new Date(v.days * 86_400_000).toISOString().slice(0, 10);
  return v.toString();
}

function safeNumber(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
}

function isoFromMicros(micros: bigint): string {
  const millis = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  return new Date(Number(millis)).toISOString();
}
