/**
 * Snowflake statements, built by pure functions so they are tested without an account. Every identifier
 * comes from validated configuration and is upper-cased and double-quoted (Snowflake's unquoted names are
 * upper case, so "BRONZE" is the schema an unquoted `bronze` refers to); object keys go into FILES = (...)
 * as escaped string literals after a shape check.
 *
 * The account objects (warehouse, database, schemas, role, user, storage integration, stage, the Bronze
 * table and the load manifest) and every grant the loader and dbt rely on come from `snowflakeSetupSql`,
 * run once by an administrator (`mds snowflake setup-sql --env <env>`). A load runs no DDL: it only checks
 * that the tables are there (`bronzeProbeStatements`), because Snowflake checks the CREATE privilege of a
 * CREATE ... IF NOT EXISTS even when the object exists.
 */
import { ConfigError, DataError } from '../errors.ts';
import { checkIdentifier, sqlString } from './sql.ts';
import {
  ADDED_BRONZE_COLUMNS,
  BRONZE_COLUMNS,
  BRONZE_SCHEMAS,
  BRONZE_TABLE,
  EVENT_COLUMNS,
  LOAD_COLUMNS,
  MANIFEST_TABLE,
  type ColumnType,
  type LoadError,
  type ManifestEntry,
  type ManifestStatus,
  type OnErrorPolicy,
  type Row,
} from './types.ts';

export interface SnowflakeNames {
  readonly database: string;
  /** The external stage over the Bronze prefix: `NAME` (in schema BRONZE) or `SCHEMA.NAME`. */
  readonly stage: string;
  /** The object-key prefix the stage's URL points at. @default 'bronze/' */
  readonly stagePrefix?: string;
}

/** `"DB"."SCHEMA"."NAME"` from validated parts. */
export function qualified(...parts: readonly string[]): string {
  return parts.map((p) => `"${p.toUpperCase()}"`).join('.');
}

export function databaseName(names: SnowflakeNames): string {
  return checkIdentifier(names.database, 'snowflake.database').toUpperCase();
}

/** The stage as `"DB"."SCHEMA"."STAGE"`. */
export function stageName(names: SnowflakeNames): string {
  const parts = names.stage.split('.');
  if (parts.length > 2) {
    throw new ConfigError(
      'snowflake.stage',
      `${JSON.stringify(names.stage)} has too many parts`,
      'Give NAME or SCHEMA.NAME',
    );
  }
  parts.forEach((p) => checkIdentifier(p, 'snowflake.stage'));
  const [schema, stage] = parts.length === 2 ? (parts as [string, string]) : ['BRONZE', parts[0] as string];
  return qualified(databaseName(names), schema, stage);
}

export function bronzeTableName(names: SnowflakeNames): string {
  return qualified(databaseName(names), 'BRONZE', BRONZE_TABLE);
}

export function manifestTableName(names: SnowflakeNames): string {
  return qualified(databaseName(names), 'BRONZE', MANIFEST_TABLE);
}

const SNOWFLAKE_TYPES: Record<ColumnType, string> = {
  VARCHAR: 'VARCHAR',
  TIMESTAMP: 'TIMESTAMP_NTZ',
  BIGINT: 'NUMBER(38,0)',
  INTEGER: 'NUMBER(10,0)',
};

const CASTS: Record<ColumnType, string> = {
  VARCHAR: 'STRING',
  TIMESTAMP: 'TIMESTAMP_NTZ',
  BIGINT: 'NUMBER(38,0)',
  INTEGER: 'NUMBER(10,0)',
};

/**
 * Schemas BRONZE/SILVER/GOLD, the Bronze table and the load manifest: part of the one-time setup SQL
 * (`snowflakeSetupSql`), never run by a load.
 */
export function bronzeObjectStatements(names: SnowflakeNames): string[] {
  const db = databaseName(names);
  const cols = BRONZE_COLUMNS.map((c) => `${c.name.toUpperCase()} ${SNOWFLAKE_TYPES[c.type]}`).join(',\n  ');
  return [
    ...BRONZE_SCHEMAS.map((s) => `CREATE SCHEMA IF NOT EXISTS ${qualified(db, s)}`),
    `CREATE TABLE IF NOT EXISTS ${bronzeTableName(names)} (\n  ${cols}\n)`,
    // A table created by an older version gains the columns added since; Snowflake's ALTER TABLE documents
    // `ADD [ COLUMN ] [ IF NOT EXISTS ] <col_name> <col_type>`, a no-op when the column exists.
    ...ADDED_BRONZE_COLUMNS.map(
      (c) =>
        `ALTER TABLE ${bronzeTableName(names)} ADD COLUMN IF NOT EXISTS ${c.name.toUpperCase()} ${SNOWFLAKE_TYPES[c.type]}`,
    ),
    `CREATE TABLE IF NOT EXISTS ${manifestTableName(names)} (
  OBJECT_KEY VARCHAR PRIMARY KEY,
  ETAG VARCHAR,
  STATUS VARCHAR NOT NULL,
  ROWS_LOADED NUMBER(38,0) NOT NULL,
  ERROR_COUNT NUMBER(10,0) NOT NULL,
  FIRST_ERROR VARCHAR,
  LOADED_AT TIMESTAMP_NTZ NOT NULL
)`,
  ];
}

/**
 * What a load checks before it starts, instead of creating anything: that the Bronze table and the manifest
 * exist and the session's role may read them. LIMIT 0 reads no data.
 */
export function bronzeProbeStatements(names: SnowflakeNames): { table: string; sql: string }[] {
  return [bronzeTableName(names), manifestTableName(names)].map((table) => ({
    table,
    sql: `SELECT 1 FROM ${table} LIMIT 0`,
  }));
}

/** A Bronze object key as it appears under the stage: the key without the stage prefix. */
export function stagePath(names: SnowflakeNames, key: string): string {
  const prefix = names.stagePrefix ?? 'bronze/';
  if (!key.startsWith(prefix) || !/^[A-Za-z0-9=/_.-]+$/.test(key)) {
    throw new DataError(`${JSON.stringify(key)} is not a Bronze object key under ${prefix}`);
  }
  return key.slice(prefix.length);
}

/** Snowflake accepts at most 1,000 names in FILES = (...). */
export const MAX_COPY_FILES = 1000;

/**
 * COPY INTO the Bronze table from exactly these objects. Lineage: `source_file` is the object key
 * (the stage prefix plus METADATA$FILENAME, which is relative to the stage URL), `source_row` is
 * METADATA$FILE_ROW_NUMBER (1-based); `loaded_at` is the load time in UTC.
 *
 * FORCE = TRUE: the load manifest, not Snowflake's load metadata, decides what is loaded. Without FORCE,
 * COPY silently skips a listed file that its metadata says was loaded before, and a file whose load status
 * is uncertain (staged more than 64 days ago, metadata expired; LOAD_UNCERTAIN_FILES covers only these,
 * and FORCE covers them too). Either would leave a file the manifest says to load unloaded, and recorded
 * as loaded with 0 rows. FORCE cannot double-load: the COPY and the manifest MERGE commit in one
 * transaction, so a file is in the table exactly when the manifest records it (a crash between the two
 * rolls both back, and the next run loads the file again, which is right because its rows are gone too);
 * a second loader racing on the same file is caught by the MERGE's counts (`mergeCounts`) and rolled back.
 */
export function copyIntoStatement(
  names: SnowflakeNames,
  keys: readonly string[],
  onError: OnErrorPolicy,
): string {
  if (keys.length === 0 || keys.length > MAX_COPY_FILES) {
    throw new RangeError(`COPY INTO takes 1..${MAX_COPY_FILES} files, got ${keys.length}`);
  }
  const files = keys.map((k) => sqlString(stagePath(names, k))).join(',\n    ');
  const select = EVENT_COLUMNS.map((c) => `$1:"${c.field}"::${CASTS[c.type]}`).join(',\n    ');
  const columns = LOAD_COLUMNS.map((c) => c.name.toUpperCase()).join(', ');
  return `COPY INTO ${bronzeTableName(names)} (${columns})
FROM (
  SELECT
    ${select},
    ${sqlString(names.stagePrefix ?? 'bronze/')} || METADATA$FILENAME,
    METADATA$FILE_ROW_NUMBER,
    CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP())::TIMESTAMP_NTZ
  FROM @${stageName(names)}
)
FILES = (
    ${files}
)
FILE_FORMAT = (TYPE = JSON COMPRESSION = AUTO)
FORCE = TRUE
ON_ERROR = ${onError}`;
}

/** One file's line of COPY INTO's result. */
export interface CopyFileResult {
  readonly key: string;
  readonly status: ManifestStatus;
  readonly rowsParsed: number;
  readonly rowsLoaded: number;
  readonly errorsSeen: number;
  readonly errors: readonly LoadError[];
}

/**
 * Parses COPY INTO's result rows (file, status, rows_parsed, rows_loaded, error_limit, errors_seen,
 * first_error, first_error_line, first_error_character, first_error_column_name) into per-object results.
 * `file` is the full location (s3://bucket/bronze/date=...); it is matched to the requested keys by suffix.
 * `missing` lists the requested keys without a row: with FORCE = TRUE Snowflake's load metadata skips
 * nothing, so such a file was not found under the stage (deleted or rewritten since it was listed, or the
 * stage points elsewhere; with ON_ERROR other than ABORT_STATEMENT COPY goes on without it). The caller
 * must not record it as loaded.
 */
export function parseCopyResult(
  rows: readonly Row[],
  keys: readonly string[],
): { files: CopyFileResult[]; missing: string[] } {
  const byKey = new Map<string, CopyFileResult>();
  for (const row of rows) {
    const get = (name: string): unknown => row[name] ?? row[name.toUpperCase()];
    const file = get('file');
    if (typeof file !== 'string') continue; // "Copy executed with 0 files processed."
    const key = keys.find((k) => file === k || file.endsWith(`/${k}`));
    if (!key) throw new DataError(`COPY INTO reported a file that was not requested: ${file}`);
    const status = String(get('status'));
    const errorsSeen = Number(get('errors_seen') ?? 0);
    const firstError = get('first_error');
    const line = get('first_error_line');
    const errors: LoadError[] = [];
    if (typeof firstError === 'string' && firstError !== '') {
      const column = get('first_error_column_name');
      const more = errorsSeen > 1 ? ` (${errorsSeen - 1} more errors in this file)` : '';
      errors.push({
        key,
        ...(line === null || line === undefined ? {} : { line: Number(line) }),
        message: `${firstError}${typeof column === 'string' && column ? ` [column ${column}]` : ''}${more}`,
      });
    }
    byKey.set(key, {
      key,
      status: copyStatus(status),
      rowsParsed: Number(get('rows_parsed') ?? 0),
      rowsLoaded: Number(get('rows_loaded') ?? 0),
      errorsSeen,
      errors,
    });
  }
  return { files: keys.flatMap((k) => byKey.get(k) ?? []), missing: keys.filter((k) => !byKey.has(k)) };
}

function copyStatus(status: string): ManifestStatus {
  switch (status) {
    case 'LOADED':
      return 'loaded';
    case 'PARTIALLY_LOADED':
      return 'partial';
    case 'LOAD_FAILED':
    case 'LOAD_SKIPPED':
      return 'failed';
    default:
      throw new DataError(`COPY INTO returned an unknown file status ${JSON.stringify(status)}`);
  }
}

/** A manifest row as the MERGE writes it: the warehouse stamps `loaded_at` itself. */
export type ManifestRecord = Omit<ManifestEntry, 'loadedAt'>;

/**
 * Records objects in the manifest: new keys are inserted, a `failed` entry is replaced (its object changed).
 * Snowflake does not enforce primary keys, so MERGE is what keeps one row per key. Values are bound (?).
 */
export function manifestMergeStatement(
  names: SnowflakeNames,
  records: readonly ManifestRecord[],
): { sql: string; binds: (string | number | null)[] } {
  const values = records.map(() => '(?, ?, ?, ?, ?, ?)').join(', ');
  return {
    sql: `MERGE INTO ${manifestTableName(names)} AS m
USING (SELECT column1 AS object_key, column2 AS etag, column3 AS status, column4 AS rows_loaded,
              column5 AS error_count, column6 AS first_error FROM VALUES ${values}) AS s
ON m.OBJECT_KEY = s.object_key
WHEN MATCHED AND m.STATUS = 'failed' THEN UPDATE SET
  ETAG = s.etag, STATUS = s.status, ROWS_LOADED = s.rows_loaded, ERROR_COUNT = s.error_count,
  FIRST_ERROR = s.first_error, LOADED_AT = CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP())::TIMESTAMP_NTZ
WHEN NOT MATCHED THEN INSERT (OBJECT_KEY, ETAG, STATUS, ROWS_LOADED, ERROR_COUNT, FIRST_ERROR, LOADED_AT)
  VALUES (s.object_key, s.etag, s.status, s.rows_loaded, s.error_count, s.first_error,
          CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP())::TIMESTAMP_NTZ)`,
    binds: records.flatMap((r) => [r.key, r.etag, r.status, r.rowsLoaded, r.errorCount, r.firstError]),
  };
}

/**
 * The manifest rows a MERGE wrote: its result row's "number of rows inserted" and "number of rows updated".
 * Fewer than the records it was given means another loader recorded some of the keys first.
 */
export function mergeCounts(rows: readonly Row[]): { inserted: number; updated: number } {
  const row = rows[0] ?? {};
  const count = (name: string): number => {
    const value = Number(row[name] ?? row[name.toUpperCase()]);
    if (!Number.isFinite(value)) {
      throw new DataError(
        `MERGE INTO the load manifest returned no "${name}" count: ${JSON.stringify(rows)}`,
      );
    }
    return value;
  };
  return { inserted: count('number of rows inserted'), updated: count('number of rows updated') };
}

/** Session settings so results follow the Warehouse.query contract (UTC, ISO timestamps). */
export const SESSION_STATEMENTS = [
  "ALTER SESSION SET TIMEZONE = 'UTC'",
  `ALTER SESSION SET TIMESTAMP_NTZ_OUTPUT_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.FF3"Z"'`,
  `ALTER SESSION SET TIMESTAMP_LTZ_OUTPUT_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.FF3"Z"'`,
  `ALTER SESSION SET TIMESTAMP_TZ_OUTPUT_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.FF3"Z"'`,
  "ALTER SESSION SET DATE_OUTPUT_FORMAT = 'YYYY-MM-DD'",
] as const;

/** `$1..$n` placeholders (the Warehouse.query convention) as Snowflake's `:1..:n`. */
export function snowflakePlaceholders(sql: string): string {
  return sql.replace(/(?<![A-Za-z0-9_$])\$(\d+)\b/g, ':$1');
}

/** Snowflake's standard warehouse sizes, smallest first. */
export const WAREHOUSE_SIZES = ['XSMALL', 'SMALL', 'MEDIUM', 'LARGE', 'XLARGE', 'XXLARGE'] as const;
export type WarehouseSize = (typeof WAREHOUSE_SIZES)[number];

/**
 * The schemas dbt builds Silver and Gold into: the `+schema` of dbt/dbt_project.yml, which the project's
 * generate_schema_name uses as-is on every target (a test keeps the two in step).
 */
export const MODEL_SCHEMAS = ['silver', 'gold'] as const;

/** One environment's Snowflake objects, as its configuration (`warehouse` settings) names them. */
export interface SnowflakeSetup {
  /** The environment, for the stack names in comments (`Mds-<env>-Pipeline`). */
  readonly envName: string;
  readonly warehouse: string;
  readonly warehouseSize: WarehouseSize;
  readonly database: string;
  readonly role: string;
  readonly user: string;
  /** The schema of an unqualified stage name (as SNOWFLAKE_SCHEMA is for the loader). */
  readonly schema: string;
  readonly stage: string;
  /** @default 'bronze/' */
  readonly stagePrefix?: string;
  /** The Bronze bucket (output BronzeBucketName of Mds-<env>-Storage); a placeholder when undefined. */
  readonly bucket?: string;
  /** Output StorageIntegrationRoleArn of Mds-<env>-Pipeline; a placeholder when undefined. */
  readonly integrationRoleArn?: string;
}

/** The storage integration of a database's Bronze stage: one per environment, as each has its own bucket. */
export function storageIntegrationName(names: SnowflakeNames): string {
  return `${databaseName(names)}_BRONZE_S3`;
}

/**
 * The one-time setup SQL of an environment, for an administrator to run: the warehouse, database and
 * schemas, the role and service user, the storage integration and stage over the Bronze prefix, the Bronze
 * table and load manifest (exactly `bronzeObjectStatements`, the DDL the loader used to run itself), and
 * every privilege the loader and dbt use, granted to the environment's role.
 */
export function snowflakeSetupSql(setup: SnowflakeSetup): string {
  const id = (value: string, setting: string) => qualified(checkIdentifier(value, setting));
  const warehouse = id(setup.warehouse, 'warehouse.warehouse');
  const role = id(setup.role, 'warehouse.role');
  const user = id(setup.user, 'warehouse.user');
  checkIdentifier(setup.database, 'warehouse.database');
  checkIdentifier(setup.schema, 'warehouse.schema');
  const names: SnowflakeNames = {
    database: setup.database,
    stage: setup.stage.includes('.') ? setup.stage : `${setup.schema}.${setup.stage}`,
    stagePrefix: setup.stagePrefix,
  };
  const db = qualified(databaseName(names));
  const stage = stageName(names);
  const stageSchema = stage.slice(0, stage.lastIndexOf('.'));
  const integration = qualified(storageIntegrationName(names));
  const bronze = bronzeTableName(names);
  const manifest = manifestTableName(names);
  const schema = (s: string) => qualified(databaseName(names), s);
  const prefix = names.stagePrefix ?? 'bronze/';
  const pipeline = `Mds-${setup.envName}-Pipeline`;
  const url = `s3://${setup.bucket ?? `<BronzeBucketName of Mds-${setup.envName}-Storage>`}/${prefix}`;
  const roleArn = setup.integrationRoleArn ?? `<StorageIntegrationRoleArn of ${pipeline}>`;
  const ddl = bronzeObjectStatements(names);
  const createdSchemas = new Set(BRONZE_SCHEMAS.map((s) => schema(s)));
  const extraSchemas = [...MODEL_SCHEMAS.map(schema), stageSchema].filter((s) => !createdSchemas.has(s));
  const readSchemas = [...new Set([schema('bronze'), stageSchema])];
  const stmt = (sql: string) => `${sql};`;

  return [
    `-- One-time Snowflake setup of the "${setup.envName}" environment of the Spotify modern data stack.`,
    `-- Generated from lib/config/environments.ts by: mds snowflake setup-sql --env ${setup.envName}`,
    "-- Names come from the environment's `warehouse` settings; change them there (or with --overrides, as the",
    `-- context key mds:${setup.envName}) and generate again, never here. Run it as a user with the ACCOUNTADMIN`,
    '-- role, after the first deploy (docs/deploy.md, "First deploy, step by step"). Every statement is',
    '-- IF NOT EXISTS or a GRANT, so running it again is safe. Then check with: mds doctor --target snowflake',
    '',
    'USE ROLE ACCOUNTADMIN;',
    '',
    '-- 1. The role the loader, the reconcile function and dbt use. SYSADMIN inherits it, so the administrators',
    '--    who own the objects below can also see what it builds.',
    stmt(`CREATE ROLE IF NOT EXISTS ${role}`),
    stmt(`GRANT ROLE ${role} TO ROLE SYSADMIN`),
    '',
    '-- 2. The service user: key-pair (JWT) authentication only, no password. Make the key pair',
    '--    (an unencrypted PKCS#8 private key and its public key):',
    '--      openssl genrsa 2048 | openssl pkcs8 -topk8 -inform PEM -out rsa_key.p8 -nocrypt',
    '--      openssl rsa -in rsa_key.p8 -pubout -out rsa_key.pub',
    `--    Put the private key in the secret of the output SnowflakeKeySecretArn of ${pipeline}:`,
    '--      aws secretsmanager put-secret-value --secret-id <SnowflakeKeySecretArn> \\',
    '--        --secret-string "$(jq -Rs \'{privateKey: .}\' rsa_key.p8)"',
    '--    and replace <RSA_PUBLIC_KEY> with the body of rsa_key.pub (without the BEGIN/END lines):',
    `--      grep -v -- '-----' rsa_key.pub | tr -d '\\n'`,
    `--    If the user exists already (another environment uses it too), this statement changes nothing: that`,
    "--    environment's private key must then go into this environment's secret as well.",
    stmt(
      `CREATE USER IF NOT EXISTS ${user}\n  TYPE = SERVICE\n  DEFAULT_ROLE = ${role}\n  DEFAULT_WAREHOUSE = ${warehouse}\n  RSA_PUBLIC_KEY = '<RSA_PUBLIC_KEY>'`,
    ),
    stmt(`GRANT ROLE ${role} TO USER ${user}`),
    `-- Key rotation: ALTER USER ${user} SET RSA_PUBLIC_KEY_2 = '<new key>'; update the secret; then`,
    `-- ALTER USER ${user} UNSET RSA_PUBLIC_KEY;`,
    '',
    '-- 3. Key-less access to the Bronze bucket: a storage integration that assumes the IAM role the Pipeline',
    '--    stack creates.',
    `--    STORAGE_AWS_ROLE_ARN is the CloudFormation output StorageIntegrationRoleArn of ${pipeline},`,
    `--    the bucket is the output BronzeBucketName of Mds-${setup.envName}-Storage:`,
    `--      aws cloudformation describe-stacks --stack-name ${pipeline} \\`,
    `--        --query "Stacks[0].Outputs[?OutputKey=='StorageIntegrationRoleArn'].OutputValue" --output text`,
    '--    (or pass --integration-role-arn and --bucket to mds snowflake setup-sql to fill them in).',
    stmt(
      `CREATE STORAGE INTEGRATION IF NOT EXISTS ${integration}\n  TYPE = EXTERNAL_STAGE\n  STORAGE_PROVIDER = 'S3'\n  ENABLED = TRUE\n  STORAGE_AWS_ROLE_ARN = ${sqlString(roleArn)}\n  STORAGE_ALLOWED_LOCATIONS = (${sqlString(url)})`,
    ),
    '--    Copy STORAGE_AWS_IAM_USER_ARN and STORAGE_AWS_EXTERNAL_ID from the next statement into',
    `--    warehouse.storageIntegration.principalArn and .externalId of the "${setup.envName}" environment and deploy`,
    `--    ${pipeline} again; until then the role trusts only the AWS account, and Snowflake cannot read Bronze.`,
    stmt(`DESC INTEGRATION ${integration}`),
    '--    SYSADMIN creates the stage with it; the role uses it in every COPY from the stage.',
    stmt(`GRANT USAGE ON INTEGRATION ${integration} TO ROLE SYSADMIN`),
    stmt(`GRANT USAGE ON INTEGRATION ${integration} TO ROLE ${role}`),
    '',
    'USE ROLE SYSADMIN;',
    '',
    '-- 4. Compute: a warehouse that suspends itself when idle and resumes on the next statement.',
    stmt(
      `CREATE WAREHOUSE IF NOT EXISTS ${warehouse}\n  WAREHOUSE_SIZE = ${setup.warehouseSize}\n  AUTO_SUSPEND = 60\n  AUTO_RESUME = TRUE\n  INITIALLY_SUSPENDED = TRUE`,
    ),
    '',
    '-- 5. Storage: the database, the medallion schemas, the Bronze table and the load manifest',
    '--    (docs/data-model.md). Owned by SYSADMIN: the role may load and read Bronze but not drop it.',
    stmt(`CREATE DATABASE IF NOT EXISTS ${db}`),
    ...ddl.map(stmt),
    ...extraSchemas.map((s) => stmt(`CREATE SCHEMA IF NOT EXISTS ${s}`)),
    '',
    '-- 6. The external stage over the Bronze prefix. The loader names files relative to its URL in',
    "--    COPY INTO ... FILES = (...) (with its own FILE_FORMAT, the same as the stage's) and rebuilds the",
    `--    object key as '${prefix}' || METADATA$FILENAME.`,
    stmt(
      `CREATE STAGE IF NOT EXISTS ${stage}\n  URL = ${sqlString(url)}\n  STORAGE_INTEGRATION = ${integration}\n  FILE_FORMAT = (TYPE = JSON COMPRESSION = AUTO)`,
    ),
    '',
    `-- 7. What the role may do, and nothing more. Loader: COPY INTO the Bronze table (INSERT) from the stage`,
    '--    (USAGE on the stage and its integration), MERGE into the manifest (SELECT, INSERT, UPDATE), and the',
    '--    reads of the manifest, of Bronze (reconcile) and of the stage (mds doctor: DESC and LIST). dbt: reads',
    '--    Bronze, and creates the Silver and Gold tables and views (and the temporary relation of an',
    '--    incremental model) in their schemas, which makes it their owner. A load runs no DDL, so the role',
    '--    needs no CREATE privilege on the database or on the Bronze schema.',
    stmt(`GRANT USAGE ON WAREHOUSE ${warehouse} TO ROLE ${role}`),
    stmt(`GRANT USAGE ON DATABASE ${db} TO ROLE ${role}`),
    ...readSchemas.map((s) => stmt(`GRANT USAGE ON SCHEMA ${s} TO ROLE ${role}`)),
    ...MODEL_SCHEMAS.map((s) =>
      stmt(`GRANT USAGE, CREATE TABLE, CREATE VIEW ON SCHEMA ${schema(s)} TO ROLE ${role}`),
    ),
    stmt(`GRANT SELECT, INSERT ON TABLE ${bronze} TO ROLE ${role}`),
    stmt(`GRANT SELECT, INSERT, UPDATE ON TABLE ${manifest} TO ROLE ${role}`),
    stmt(`GRANT USAGE ON STAGE ${stage} TO ROLE ${role}`),
    '',
  ].join('\n');
}
