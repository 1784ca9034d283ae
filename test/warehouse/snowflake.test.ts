import { generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { S3Client } from '@aws-sdk/client-s3';
import { loadBronze } from '../../lambdas/loader/load.ts';
import { ConfigError, DataError, TransientError } from '../../lambdas/core/errors.ts';
import {
  privateKeyFromSecret,
  snowflakeWarehouse,
  type SnowflakeBind,
} from '../../lambdas/core/warehouse/snowflake.ts';
import {
  copyIntoStatement,
  bronzeObjectStatements,
  manifestMergeStatement,
  parseCopyResult,
  snowflakePlaceholders,
  stageName,
} from '../../lambdas/core/warehouse/snowflake-sql.ts';
import { LoadConflictError, type Row } from '../../lambdas/core/warehouse/types.ts';

const names = { database: 'spotify_mds', stage: 'bronze_stage' };
const fixture = JSON.parse(
  await readFile(new URL('./fixtures/copy-into-result.json', import.meta.url), 'utf8'),
) as { rows: Row[] };
const KEYS = [
  'bronze/date=2026-11-23/hour=09/spotify-events-0-1000-1999.ndjson.gz',
  'bronze/date=2026-11-23/hour=09/spotify-events-1-400-899.ndjson.gz',
  'bronze/date=2026-11-22/hour=23/spotify-events-2-77-120.ndjson.gz',
  'bronze/date=2026-11-23/hour=09/spotify-events-2-121-300.ndjson.gz',
  'bronze/date=2026-11-23/hour=09/spotify-events-0-2000-2999.ndjson.gz',
];

describe('Snowflake statements', () => {
  it('COPY INTO loads exactly the given objects from the stage, with lineage, load time and ON_ERROR', () => {
    // Act
    const sql = copyIntoStatement(names, KEYS.slice(0, 2), 'CONTINUE');

    // Assess
    expect(sql).toContain('COPY INTO "SPOTIFY_MDS"."BRONZE"."LISTENING_EVENTS" (EVENT_ID, USER_ID,');
    expect(sql).toContain('SOURCE_FILE, SOURCE_ROW, LOADED_AT)');
    // Each column takes the field of its own name: the column list and the SELECT line up one to one.
    const columns = /LISTENING_EVENTS" \(([^)]*)\)/.exec(sql)![1]!.split(', ');
    const selected = /SELECT\n([\s\S]*?)\n {2}FROM @/
      .exec(sql)![1]!
      .split(',\n')
      .map((e) => e.trim());
    expect(selected).toHaveLength(columns.length);
    expect(columns[columns.indexOf('ALBUM_NAME')]).toBe('ALBUM_NAME');
    expect(selected[columns.indexOf('ALBUM_NAME')]).toBe('$1:"album_name"::STRING');
    expect(selected[columns.indexOf('TRACK_LENGTH_MS')]).toBe('$1:"track_length_ms"::NUMBER(38,0)');
    expect(selected[columns.indexOf('SOURCE')]).toBe('$1:"source"::STRING');
    expect(selected[columns.indexOf('EVENT_TIMESTAMP')]).toBe('$1:"timestamp"::TIMESTAMP_NTZ');
    expect(selected[columns.indexOf('LOADED_AT')]).toMatch(/^CONVERT_TIMEZONE/);
    expect(sql).toContain('$1:"event_id"::STRING');
    expect(sql).toContain('$1:"timestamp"::TIMESTAMP_NTZ');
    expect(sql).toContain('$1:"_offset"::NUMBER(38,0)');
    expect(sql).toContain("'bronze/' || METADATA$FILENAME,\n    METADATA$FILE_ROW_NUMBER,");
    expect(sql).toContain("CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP())::TIMESTAMP_NTZ");
    expect(sql).toContain('FROM @"SPOTIFY_MDS"."BRONZE"."BRONZE_STAGE"');
    expect(sql).toContain(
      "FILES = (\n    'date=2026-11-23/hour=09/spotify-events-0-1000-1999.ndjson.gz',\n    'date=2026-11-23/hour=09/spotify-events-1-400-899.ndjson.gz'\n)",
    );
    expect(sql).toContain('FILE_FORMAT = (TYPE = JSON COMPRESSION = AUTO)');
    expect(sql).toMatch(/ON_ERROR = CONTINUE$/);
    // The manifest decides what is loaded, not Snowflake's load metadata: FORCE loads every listed file,
    // also one loaded before outside the manifest and one whose load status has expired (64 days).
    expect(sql).toMatch(/\nFORCE = TRUE\n/);
    expect(copyIntoStatement(names, KEYS.slice(0, 1), 'SKIP_FILE')).toMatch(/ON_ERROR = SKIP_FILE$/);
  });

  it('rejects identifiers and keys that could change the statement', () => {
    // Act / Assess
    expect(() =>
      copyIntoStatement({ ...names, database: 'x"; DROP TABLE t; --' }, KEYS.slice(0, 1), 'CONTINUE'),
    ).toThrow(ConfigError);
    expect(() => stageName({ ...names, stage: 'a.b.c' })).toThrow(/snowflake.stage/);
    expect(() =>
      copyIntoStatement(names, ["bronze/date=2026-11-23/hour=09/x'); DROP TABLE t; --"], 'CONTINUE'),
    ).toThrow(DataError);
    expect(() =>
      copyIntoStatement(names, ['quarantine/date=2026-11-23/hour=09/a.ndjson.gz'], 'CONTINUE'),
    ).toThrow(/not a Bronze object key/);
    expect(() =>
      copyIntoStatement(
        names,
        Array.from({ length: 1001 }, () => KEYS[0] as string),
        'CONTINUE',
      ),
    ).toThrow(RangeError);
    expect(stageName({ ...names, stage: 'landing.bronze_stage' })).toBe(
      '"SPOTIFY_MDS"."LANDING"."BRONZE_STAGE"',
    );
  });

  it('the setup DDL: the three schemas, the Bronze table with Snowflake types, and the manifest', () => {
    // Act
    const stmts = bronzeObjectStatements(names);

    // Assess
    expect(stmts.slice(0, 3)).toEqual([
      'CREATE SCHEMA IF NOT EXISTS "SPOTIFY_MDS"."BRONZE"',
      'CREATE SCHEMA IF NOT EXISTS "SPOTIFY_MDS"."SILVER"',
      'CREATE SCHEMA IF NOT EXISTS "SPOTIFY_MDS"."GOLD"',
    ]);
    expect(stmts[3]).toContain('EVENT_TIMESTAMP TIMESTAMP_NTZ');
    expect(stmts[3]).toContain('KAFKA_OFFSET NUMBER(38,0)');
    expect(stmts[3]).toContain('ALBUM_NAME VARCHAR');
    // A table created by an older version gains contract version 2's columns.
    expect(stmts.slice(4, 7)).toEqual([
      'ALTER TABLE "SPOTIFY_MDS"."BRONZE"."LISTENING_EVENTS" ADD COLUMN IF NOT EXISTS ALBUM_NAME VARCHAR',
      'ALTER TABLE "SPOTIFY_MDS"."BRONZE"."LISTENING_EVENTS" ADD COLUMN IF NOT EXISTS TRACK_LENGTH_MS NUMBER(38,0)',
      'ALTER TABLE "SPOTIFY_MDS"."BRONZE"."LISTENING_EVENTS" ADD COLUMN IF NOT EXISTS SOURCE VARCHAR',
    ]);
    expect(stmts[7]).toContain('CREATE TABLE IF NOT EXISTS "SPOTIFY_MDS"."BRONZE"."LOAD_MANIFEST"');
  });

  it('binds manifest values instead of splicing them', () => {
    // Act
    const merge = manifestMergeStatement(names, [
      {
        key: KEYS[0] as string,
        etag: '"abc"',
        status: 'loaded',
        rowsLoaded: 1000,
        errorCount: 0,
        firstError: null,
      },
      { key: "it's", etag: null, status: 'failed', rowsLoaded: 0, errorCount: 1, firstError: "can't" },
    ]);

    // Assess
    expect(merge.sql).toContain('FROM VALUES (?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?)');
    expect(merge.sql).toContain("WHEN MATCHED AND m.STATUS = 'failed' THEN UPDATE");
    expect(merge.sql).not.toContain("it's");
    expect(merge.binds).toEqual([
      KEYS[0],
      '"abc"',
      'loaded',
      1000,
      0,
      null,
      "it's",
      null,
      'failed',
      0,
      1,
      "can't",
    ]);
  });

  it('turns $n placeholders into :n without touching METADATA$ names', () => {
    expect(snowflakePlaceholders('SELECT METADATA$FILENAME FROM t WHERE a = $1 AND b = $12')).toBe(
      'SELECT METADATA$FILENAME FROM t WHERE a = :1 AND b = :12',
    );
  });
});

describe('COPY INTO result parsing', () => {
  it('maps each file of the captured output to its object, status, rows and first error', () => {
    // Act
    const parsed = parseCopyResult(fixture.rows, KEYS);

    // Assess
    expect(parsed.files).toEqual([
      { key: KEYS[0], status: 'loaded', rowsParsed: 1000, rowsLoaded: 1000, errorsSeen: 0, errors: [] },
      {
        key: KEYS[1],
        status: 'partial',
        rowsParsed: 500,
        rowsLoaded: 497,
        errorsSeen: 3,
        errors: [
          {
            key: KEYS[1],
            line: 17,
            message:
              'Error parsing JSON: incomplete object value, pos 41 [column "LISTENING_EVENTS"["EVENT_ID":1]] (2 more errors in this file)',
          },
        ],
      },
      {
        key: KEYS[2],
        status: 'failed',
        rowsParsed: 0,
        rowsLoaded: 0,
        errorsSeen: 1,
        errors: [{ key: KEYS[2], line: 1, message: expect.stringContaining('unexpected end of stream') }],
      },
      {
        key: KEYS[3],
        status: 'partial',
        rowsParsed: 180,
        rowsLoaded: 179,
        errorsSeen: 1,
        errors: [{ key: KEYS[3], line: 5, message: expect.stringContaining("Timestamp 'yesterday'") }],
      },
    ]);
    expect(parsed.missing).toEqual([KEYS[4]]);
  });

  it('reports requested files without a result as missing and refuses files it did not ask for', () => {
    expect(parseCopyResult([{ status: 'Copy executed with 0 files processed.' }], KEYS.slice(0, 1))).toEqual({
      files: [],
      missing: [KEYS[0]],
    });
    expect(() =>
      parseCopyResult([{ ...fixture.rows[0], file: 's3://b/bronze/other.ndjson.gz' }], KEYS),
    ).toThrow(/not requested/);
  });
});

describe('Snowflake adapter', () => {
  /** MERGE's result row: how many manifest rows it inserted and updated. */
  const mergeResult = (inserted: number, updated = 0): Row[] => [
    { 'number of rows inserted': inserted, 'number of rows updated': updated },
  ];

  /**
   * Records statements and answers them as Snowflake would: COPY with the captured output, MERGE with its
   * counts (by default every record inserted), anything else through `other`; the driver is the only thing
   * replaced.
   */
  function recording(
    copy: (sql: string) => Row[],
    options: { merge?: (records: number) => Row[]; other?: (sql: string) => Row[] } = {},
  ) {
    const calls: { sql: string; binds?: readonly SnowflakeBind[] }[] = [];
    const wh = snowflakeWarehouse(
      names,
      async (sql, binds) => {
        calls.push({ sql, binds });
        if (sql.startsWith('COPY INTO')) return copy(sql);
        if (sql.startsWith('MERGE INTO')) return (options.merge ?? mergeResult)((binds?.length ?? 0) / 6);
        return options.other?.(sql) ?? [];
      },
      async () => undefined,
    );
    return { wh, calls };
  }

  it('loads a batch in one transaction: COPY, then the manifest, then COMMIT', async () => {
    // Prepare: the four objects the captured COPY output reports on
    const { wh, calls } = recording(() => fixture.rows);
    const objects = KEYS.slice(0, 4).map((key, i) => ({ key, etag: `"e${i}"`, replacesFailed: false }));

    // Act
    const outcomes = await wh.loadObjects({
      objects,
      onError: 'CONTINUE',
      fetch: () => Promise.reject(new Error('unused')),
    });

    // Assess
    expect(calls.map((c) => c.sql.split(/\s/)[0])).toEqual(['BEGIN', 'COPY', 'MERGE', 'COMMIT']);
    expect(outcomes.map((o) => [o.key, o.status, o.rowsLoaded])).toEqual([
      [KEYS[0], 'loaded', 1000],
      [KEYS[1], 'partial', 497],
      [KEYS[2], 'failed', 0],
      [KEYS[3], 'partial', 179],
    ]);
    expect(calls[2]?.binds?.slice(0, 6)).toEqual([KEYS[0], '"e0"', 'loaded', 1000, 0, null]);
    expect(calls[2]?.binds?.slice(6, 12)).toEqual([
      KEYS[1],
      '"e1"',
      'partial',
      497,
      3,
      expect.stringMatching(/^line 17: /),
    ]);
  });

  it('fails the batch, naming the file, when COPY reports nothing for a requested file', async () => {
    // Prepare: five objects requested, the captured output reports four of them (KEYS[4] is absent)
    const { wh, calls } = recording(() => fixture.rows);
    const objects = KEYS.map((key, i) => ({ key, etag: `"e${i}"`, replacesFailed: false }));

    // Act
    const load = wh.loadObjects({
      objects,
      onError: 'CONTINUE',
      fetch: () => Promise.reject(new Error('unused')),
    });

    // Assess: nothing is recorded as loaded with 0 rows; the transaction is rolled back
    await expect(load).rejects.toThrow(TransientError);
    await expect(load).rejects.toThrow(KEYS[4] as string);
    expect(calls.map((c) => c.sql.split(/\s/)[0])).toEqual(['BEGIN', 'COPY', 'ROLLBACK']);
  });

  it('rolls back and reports a conflict when another loader recorded an object first', async () => {
    // Prepare: the MERGE inserts only three of the four manifest rows (the fourth key was already there)
    const { wh, calls } = recording(() => fixture.rows, { merge: (n) => mergeResult(n - 1) });
    const objects = KEYS.slice(0, 4).map((key) => ({ key, etag: undefined, replacesFailed: false }));

    // Act
    const load = wh.loadObjects({
      objects,
      onError: 'CONTINUE',
      fetch: () => Promise.reject(new Error('unused')),
    });

    // Assess
    await expect(load).rejects.toThrow(LoadConflictError);
    expect(calls.map((c) => c.sql.split(/\s/)[0])).toEqual(['BEGIN', 'COPY', 'MERGE', 'ROLLBACK']);
  });

  it('a load runs no DDL: the setup SQL creates the objects, the load only checks them', async () => {
    // Prepare: two Bronze objects in the window's hour, and the captured COPY output for them
    const keys = KEYS.slice(0, 2) as [string, string];
    const s3 = {
      send: async () => ({
        Contents: keys.map((Key, i) => ({ Key, ETag: `"e${i}"`, Size: 100, LastModified: new Date() })),
        IsTruncated: false,
      }),
    } as unknown as S3Client;
    const { wh, calls } = recording(() => fixture.rows.slice(0, 2));

    // Act
    const result = await loadBronze(
      { s3, bucket: 'mds-bronze-dev', warehouse: wh },
      { windowStart: '2026-11-23T09:00:00Z', windowEnd: '2026-11-23T10:00:00Z', lookbackHours: 0 },
    );

    // Assess
    expect(result).toMatchObject({ objectsSeen: 2, objectsLoaded: 2, rowsLoaded: 1497 });
    expect(calls.filter((c) => /^\s*(CREATE|ALTER|DROP|GRANT)\b/i.test(c.sql)).map((c) => c.sql)).toEqual([]);
    expect(calls.map((c) => c.sql.split(/\s/)[0])).toContain('COPY');
  });

  it('names the setup command when the Bronze table or manifest is missing or not readable', async () => {
    // Prepare: Snowflake's answer for an object that does not exist or the role may not see
    const missing = Object.assign(
      new Error(
        "SQL compilation error:\nObject 'SPOTIFY_MDS.BRONZE.LOAD_MANIFEST' does not exist or not authorized.",
      ),
      { code: '002003', sqlState: '42S02' },
    );
    const { wh } = recording(() => [], {
      other: (sql) => {
        if (sql.includes('LOAD_MANIFEST')) throw missing;
        return [];
      },
    });

    // Act / Assess
    await expect(wh.ensureBronze()).rejects.toThrow(ConfigError);
    await expect(wh.ensureBronze()).rejects.toThrow(
      /"SPOTIFY_MDS"\."BRONZE"\."LOAD_MANIFEST".*mds snowflake setup-sql --env/,
    );
  });

  it('ABORT_STATEMENT: rolls back, records nothing and names the file and line', async () => {
    // Prepare
    const { wh, calls } = recording(() => {
      throw new Error(
        "Error parsing JSON: incomplete object value, pos 41\n  File 'date=2026-11-23/hour=09/spotify-events-1-400-899.ndjson.gz', line 17, character 42",
      );
    });
    const objects = KEYS.slice(0, 2).map((key) => ({ key, etag: undefined, replacesFailed: false }));

    // Act
    const outcomes = await wh.loadObjects({
      objects,
      onError: 'ABORT_STATEMENT',
      fetch: () => Promise.reject(new Error('unused')),
    });

    // Assess
    expect(calls.map((c) => c.sql.split(/\s/)[0])).toEqual(['BEGIN', 'COPY', 'ROLLBACK']);
    expect(outcomes.map((o) => o.status)).toEqual(['aborted', 'aborted']);
    expect(outcomes[1]?.errors).toEqual([
      { key: KEYS[1], line: 17, message: expect.stringContaining('incomplete object') },
    ]);
  });
});

describe('Snowflake private key from Secrets Manager', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const plain = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mds/snowflake-key';

  it('accepts PEM text, the stack JSON shape, and an encrypted key with its passphrase', () => {
    const encrypted = privateKey
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'correct horse' })
      .toString();
    const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

    expect(privateKeyFromSecret(plain, ARN)).toBe(plain);
    expect(privateKeyFromSecret(JSON.stringify({ privateKey: pkcs1 }), ARN)).toBe(plain);
    expect(
      privateKeyFromSecret(JSON.stringify({ privateKey: encrypted, passphrase: 'correct horse' }), ARN),
    ).toBe(plain);
  });

  it('names the setting when the secret holds no usable key', () => {
    expect(() => privateKeyFromSecret('hunter2', ARN)).toThrow(
      /^SNOWFLAKE_SECRET_ARN: secret arn:aws:secretsmanager/,
    );
    expect(() => privateKeyFromSecret('{"privateKey": 1', ARN)).toThrow(ConfigError);
  });
});
