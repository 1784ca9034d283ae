/**
 * Postgres as the warehouse (as in three of the seeds). Objects are gunzipped and validated line by line,
 * streamed with COPY FROM STDIN into a temporary staging table, and moved into bronze.listening_events with
 * INSERT ... SELECT in the transaction that records them in the manifest. The manifest insert comes first
 * and uses ON CONFLICT DO NOTHING: a second loader working on the same objects waits on the first one's
 * row locks, then sees them recorded and loads nothing of them.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { decodeObject, mapLimit, validateLines, type ValidLine } from './bronze-lines.ts';
import { bronzeDdl, firstErrorText, manifestEntryFromRow, utcTimestampText } from './sql.ts';
import {
  LOAD_COLUMNS,
  BRONZE_TABLE,
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

export interface PostgresOptions {
  /** postgresql://user:password@host:port/database (or host=/socket/dir in the query). */
  readonly connectionString?: string;
  readonly host?: string;
  readonly port?: number;
  readonly database?: string;
  readonly user?: string;
  readonly password?: string;
  readonly ssl?: boolean;
  /** @default 4 */
  readonly maxConnections?: number;
}

export interface PostgresWarehouse extends Warehouse {
  readonly kind: 'postgres';
  readonly pool: pg.Pool;
}

export async function openPostgresWarehouse(options: PostgresOptions): Promise<PostgresWarehouse> {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    host: options.host,
    port: options.port,
    database: options.database,
    user: options.user,
    password: options.password,
    ssl: options.ssl ? { rejectUnauthorized: true } : undefined,
    max: options.maxConnections ?? 4,
    types: { getTypeParser: typeParser as typeof pg.types.getTypeParser },
  });
  // Fail at open, with the server's message, rather than at the first query.
  const client = await pool.connect();
  client.release();
  return new Postgres(pool);
}

const OID = { INT8: 20, NUMERIC: 1700, TIMESTAMP: 1114, TIMESTAMPTZ: 1184, DATE: 1082 } as const;

/** The Warehouse.query value contract for Postgres's text results. */
function typeParser(oid: number, format?: string): (value: string) => unknown {
  switch (oid) {
    case OID.INT8:
      return (v) => {
        const n = Number(v);
        return Number.isSafeInteger(n) ? n : BigInt(v);
      };
    case OID.NUMERIC:
      return Number;
    case OID.TIMESTAMP:
      return (v) => isoFromNaive(v);
    case OID.TIMESTAMPTZ:
      return (v) => new Date(v).toISOString();
    case OID.DATE:
      return (v) => v;
    default:
      return pg.types.getTypeParser(oid, (format ?? 'text') as 'text');
  }
}

/** '2026-11-23 10:15:00.123456' (naive UTC) -> '2026-11-23T10:15:00.123Z'. */
function isoFromNaive(v: string): string {
  const [date, time = '00:00:00'] = v.split(' ');
  const [hms, frac = ''] = time.split('.');
  return `${date}T${hms}.${frac.padEnd(3, '0').slice(0, 3)}Z`;
}

interface Prepared {
  readonly object: ObjectToLoad;
  readonly status: ManifestStatus;
  readonly valid: readonly ValidLine[];
  readonly errors: readonly LoadError[];
  readonly errorCount: number;
}

const FETCH_CONCURRENCY = 8;
// In load order (a line's fields, then source_file, source_row), as copyRows writes them.
const LOADED_COLUMNS = LOAD_COLUMNS.filter((c) => c.name !== 'loaded_at').map((c) => c.name);

class Postgres implements PostgresWarehouse {
  readonly kind = 'postgres' as const;

  constructor(readonly pool: pg.Pool) {}

  async query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const res = await this.pool.query(sql, params as unknown[]);
    return res.rows as T[];
  }

  async ensureBronze(): Promise<void> {
    // CREATE ... IF NOT EXISTS still races on the catalog; an advisory lock serialises concurrent loaders.
    await this.transaction(async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('mds.ensureBronze'))");
      for (const stmt of bronzeDdl()) await client.query(stmt);
    });
  }

  async manifestEntries(keys: readonly string[]): Promise<Map<string, ManifestEntry>> {
    const res = await this.pool.query(
      `SELECT object_key, etag, status, rows_loaded, error_count, first_error, loaded_at
       FROM bronze.${MANIFEST_TABLE} WHERE object_key = ANY($1::text[])`,
      [keys],
    );
    return new Map(res.rows.map((r: Row) => [String(r.object_key), manifestEntryFromRow(r)]));
  }

  async loadObjects(batch: LoadBatch): Promise<ObjectOutcome[]> {
    const prepared = await mapLimit(batch.objects, FETCH_CONCURRENCY, async (object): Promise<Prepared> => {
      const decoded = await decodeObject(await batch.fetch(object.key));
      if (!decoded.ok) {
        return {
          object,
          status: 'failed',
          valid: [],
          errors: [{ key: object.key, message: decoded.error }],
          errorCount: 1,
        };
      }
      const v = validateLines(object.key, decoded.text);
      if (v.badLines > 0 && batch.onError !== 'CONTINUE') {
        return { object, status: 'failed', valid: [], errors: v.errors, errorCount: v.badLines };
      }
      return {
        object,
        status: v.badLines > 0 ? 'partial' : 'loaded',
        valid: v.valid,
        errors: v.errors,
        errorCount: v.badLines,
      };
    });
    if (batch.onError === 'ABORT_STATEMENT' && prepared.some((p) => p.errorCount > 0)) {
      return prepared.map((p) => ({ key: p.object.key, status: 'aborted', rowsLoaded: 0, errors: p.errors }));
    }

    const loadedAt = utcTimestampText(new Date());
    return this.transaction(async (client) => {
      const replaced = prepared.filter((p) => p.object.replacesFailed).map((p) => p.object.key);
      if (replaced.length > 0) {
        await client.query(
          `DELETE FROM bronze.${MANIFEST_TABLE} WHERE status = 'failed' AND object_key = ANY($1::text[])`,
          [replaced],
        );
      }
      const claimed = await client.query<{ object_key: string }>(
        `INSERT INTO bronze.${MANIFEST_TABLE} (object_key, etag, status, rows_loaded, error_count, first_error, loaded_at)
         SELECT k, e, s, r, c, f, $7::timestamp
         FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::int[], $6::text[]) AS t(k, e, s, r, c, f)
         ON CONFLICT (object_key) DO NOTHING
         RETURNING object_key`,
        [
          prepared.map((p) => p.object.key),
          prepared.map((p) => p.object.etag ?? null),
          prepared.map((p) => p.status),
          prepared.map((p) => p.valid.length),
          prepared.map((p) => p.errorCount),
          prepared.map((p) => firstErrorText(p.errors)),
          loadedAt,
        ],
      );
      const ours = new Set(claimed.rows.map((r) => r.object_key));
      const toCopy = prepared.filter((p) => ours.has(p.object.key) && p.valid.length > 0);
      if (toCopy.length > 0) {
        await client.query(
          `CREATE TEMP TABLE bronze_stage ON COMMIT DROP AS
           SELECT ${LOADED_COLUMNS.join(', ')} FROM bronze.${BRONZE_TABLE} WITH NO DATA`,
        );
        const copy = client.query(copyFrom(`COPY bronze_stage (${LOADED_COLUMNS.join(', ')}) FROM STDIN`));
        await pipeline(Readable.from(copyRows(toCopy)), copy);
        await client.query(
          `INSERT INTO bronze.${BRONZE_TABLE} (${LOADED_COLUMNS.join(', ')}, loaded_at)
           SELECT ${LOADED_COLUMNS.join(', ')}, $1::timestamp FROM bronze_stage`,
          [loadedAt],
        );
      }
      return prepared.map((p): ObjectOutcome =>
        ours.has(p.object.key)
          ? { key: p.object.key, status: p.status, rowsLoaded: p.valid.length, errors: p.errors }
          : { key: p.object.key, status: 'concurrent', rowsLoaded: 0, errors: [] },
      );
    });
  }

  private async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** COPY text format: tab-separated, \N for NULL, backslash escapes; about 1,000 lines per chunk. */
function* copyRows(objects: readonly Prepared[]): Generator<string> {
  let chunk = '';
  let n = 0;
  for (const p of objects) {
    const key = copyText(p.object.key);
    for (const line of p.valid) {
      chunk += `${line.values.map((v) => (v === null ? '\\N' : copyText(String(v)))).join('\t')}\t${key}\t${line.line}\n`;
      if (++n % 1000 === 0) {
        yield chunk;
        chunk = '';
      }
    }
  }
  if (chunk) yield chunk;
}

function copyText(v: string): string {
  return v.replace(/[\\\n\r\t]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t',
  );
}
