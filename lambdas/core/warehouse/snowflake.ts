/**
 * Snowflake as the warehouse: key-pair (JWT) authentication with the private key from AWS Secrets
 * Manager, and COPY INTO from an external stage over the Bronze prefix (backed by a storage integration).
 * The account objects and grants are made once by the SQL of `mds snowflake setup-sql --env <env>`; a load
 * runs no DDL. The loader passes the exact object keys in FILES = (...) with FORCE = TRUE and records them
 * in the manifest in the same transaction, so the manifest alone decides what is loaded, exactly once per
 * object (see copyIntoStatement).
 */
import { createPrivateKey } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import snowflake from 'snowflake-sdk';
import { ConfigError, MdsError, TransientError, errorMessage } from '../errors.ts';
import { chunks, firstErrorText, manifestEntryFromRow } from './sql.ts';
import {
  MAX_COPY_FILES,
  SESSION_STATEMENTS,
  bronzeProbeStatements,
  copyIntoStatement,
  databaseName,
  manifestMergeStatement,
  manifestTableName,
  mergeCounts,
  parseCopyResult,
  snowflakePlaceholders,
  type ManifestRecord,
  type SnowflakeNames,
} from './snowflake-sql.ts';
import {
  LoadConflictError,
  type LoadBatch,
  type ManifestEntry,
  type ObjectOutcome,
  type Row,
  type Warehouse,
} from './types.ts';

export type SnowflakeBind = string | number | boolean | null;
/** Runs one statement and returns its rows; the seam between the adapter and the driver. */
export type SnowflakeExecute = (sql: string, binds?: readonly SnowflakeBind[]) => Promise<Row[]>;

export interface SnowflakeSettings extends SnowflakeNames {
  /** Account identifier, e.g. `myorg-myaccount`. */
  readonly account: string;
  readonly user: string;
  readonly role: string;
  readonly warehouse: string;
  /** Secrets Manager secret holding the PEM private key (or JSON {"privateKey", "passphrase"}). */
  readonly privateKeySecretArn: string;
}

export interface SnowflakeWarehouse extends Warehouse {
  readonly kind: 'snowflake';
  /** Runs a statement as is (the doctor's checks, setup scripts). */
  execute: SnowflakeExecute;
}

export async function openSnowflakeWarehouse(
  settings: SnowflakeSettings,
  deps: { secrets?: SecretsManagerClient } = {},
): Promise<SnowflakeWarehouse> {
  const secrets = deps.secrets ?? new SecretsManagerClient({});
  const key = await readPrivateKey(secrets, settings.privateKeySecretArn);
  snowflake.configure({ logLevel: 'ERROR' });
  const connection = snowflake.createConnection({
    account: settings.account,
    username: settings.user,
    role: settings.role,
    warehouse: settings.warehouse,
    database: settings.database,
    authenticator: 'SNOWFLAKE_JWT',
    privateKey: key,
    application: 'spotify-mds',
  });
  try {
    await connection.connectAsync();
  } catch (err) {
    throw new MdsError(
      `cannot connect to Snowflake account ${settings.account} as ${settings.user} with key-pair authentication: ` +
        `${errorMessage(err)}; check the account identifier, that the user's RSA_PUBLIC_KEY matches the secret's key, ` +
        'and the setup SQL of `mds snowflake setup-sql --env <env>`',
      { cause: err },
    );
  }
  const execute: SnowflakeExecute = (sql, binds) =>
    new Promise((resolve, reject) => {
      connection.execute({
        sqlText: sql,
        binds: binds as snowflake.Binds | undefined,
        fetchAsString: ['Date'],
        complete: (err, _stmt, rows) => (err ? reject(err) : resolve((rows ?? []) as Row[])),
      });
    });
  for (const stmt of SESSION_STATEMENTS) await execute(stmt);
  return snowflakeWarehouse(
    settings,
    execute,
    () => new Promise((resolve) => connection.destroy(() => resolve())),
  );
}

/** The private key, unencrypted PKCS#8 PEM, from the secret (PEM text, or JSON with privateKey/passphrase). */
export async function readPrivateKey(secrets: SecretsManagerClient, secretArn: string): Promise<string> {
  let text: string | undefined;
  try {
    text = (await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
  } catch (err) {
    throw new MdsError(`cannot read the Snowflake private key secret ${secretArn}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  if (!text) {
    throw new ConfigError(
      'SNOWFLAKE_SECRET_ARN',
      `secret ${secretArn} has no SecretString`,
      'Store the PEM key as the secret string',
    );
  }
  return privateKeyFromSecret(text, secretArn);
}

/** The secret's text (PEM, or JSON {"privateKey"|"private_key", "passphrase"?}) as unencrypted PKCS#8 PEM. */
export function privateKeyFromSecret(text: string, secretArn: string): string {
  try {
    let pem = text;
    let passphrase: string | undefined;
    if (text.trimStart().startsWith('{')) {
      const json = JSON.parse(text) as { privateKey?: string; private_key?: string; passphrase?: string };
      pem = json.privateKey ?? json.private_key ?? '';
      passphrase = json.passphrase;
    }
    return createPrivateKey({ key: pem, format: 'pem', passphrase })
      .export({ type: 'pkcs8', format: 'pem' })
      .toString();
  } catch (err) {
    throw new ConfigError(
      'SNOWFLAKE_SECRET_ARN',
      `secret ${secretArn} does not hold a readable PEM private key (${errorMessage(err)})`,
      'Store the key made by `openssl genrsa 2048 | openssl pkcs8 -topk8 -nocrypt`, or JSON {"privateKey","passphrase"}',
    );
  }
}

/** The adapter over any statement runner (the driver in production). */
export function snowflakeWarehouse(
  names: SnowflakeNames,
  execute: SnowflakeExecute,
  close: () => Promise<void>,
): SnowflakeWarehouse {
  return {
    kind: 'snowflake',
    execute,
    query: async <T extends Row = Row>(sql: string, params: readonly unknown[] = []) =>
      (await execute(snowflakePlaceholders(sql), params.map(toBind))).map(lowerCaseKeys) as T[],
    /** Checks that the Bronze table and the manifest exist and are readable; creates nothing. */
    async ensureBronze() {
      for (const probe of bronzeProbeStatements(names)) {
        try {
          await execute(probe.sql);
        } catch (err) {
          if (!isMissingObject(err)) throw err;
          throw new ConfigError(
            'SNOWFLAKE_DATABASE',
            `${probe.table} does not exist in ${databaseName(names)} or the session's role may not read it (${oneLine(errorMessage(err))})`,
            'A load creates nothing: create the objects and grants once with the SQL printed by `mds snowflake setup-sql --env <env>` (docs/deploy.md, "First deploy, step by step")',
          );
        }
      }
    },
    async manifestEntries(keys) {
      const out = new Map<string, ManifestEntry>();
      for (const part of chunks(keys, 1000)) {
        if (part.length === 0) continue;
        const rows = await execute(
          `SELECT OBJECT_KEY, ETAG, STATUS, ROWS_LOADED, ERROR_COUNT, FIRST_ERROR, LOADED_AT
           FROM ${manifestTableName(names)} WHERE OBJECT_KEY IN (${part.map(() => '?').join(', ')})`,
          part,
        );
        for (const r of rows) {
          const e = manifestEntryFromRow(r);
          out.set(e.key, e);
        }
      }
      return out;
    },
    async loadObjects(batch: LoadBatch) {
      const out: ObjectOutcome[] = [];
      for (const part of chunks(batch.objects, MAX_COPY_FILES)) out.push(...(await copyBatch(part, batch)));
      return out;
    },
    close,
  };

  async function copyBatch(objects: LoadBatch['objects'], batch: LoadBatch): Promise<ObjectOutcome[]> {
    const keys = objects.map((o) => o.key);
    await execute('BEGIN');
    try {
      let rows: Row[];
      try {
        rows = await execute(copyIntoStatement(names, keys, batch.onError));
      } catch (err) {
        // ON_ERROR = ABORT_STATEMENT stops at the first bad line and names it ("File '...', line N");
        // nothing of the batch is loaded or recorded. Any other failure is the caller's to see.
        const where = /File '([^']+)', line (\d+)/.exec(errorMessage(err));
        if (batch.onError !== 'ABORT_STATEMENT' || !where) throw err;
        await execute('ROLLBACK');
        const key = keys.find((k) => k.endsWith(where[1] as string)) ?? (keys[0] as string);
        const error = { key, line: Number(where[2]), message: errorMessage(err) };
        return objects.map((o) => ({
          key: o.key,
          status: 'aborted',
          rowsLoaded: 0,
          errors: o.key === key ? [error] : [],
        }));
      }
      const parsed = parseCopyResult(rows, keys);
      if (parsed.missing.length > 0) {
        // Never recorded as loaded with 0 rows: nothing of the batch is kept, and the next attempt lists
        // the objects again (one deleted since the listing is then gone from it).
        throw new TransientError(
          `COPY INTO reported no result for ${parsed.missing.length} of ${keys.length} requested Bronze objects, ` +
            `so the batch was rolled back: ${parsed.missing.join(', ')}; the object was not found under stage ` +
            `${names.stage} (deleted or rewritten since it was listed, or the stage URL is not the Bronze prefix)`,
        );
      }
      const outcomes: ObjectOutcome[] = parsed.files.map((f) => ({
        key: f.key,
        status: f.status,
        rowsLoaded: f.rowsLoaded,
        errors: f.errors,
      }));
      const etags = new Map(objects.map((o) => [o.key, o.etag ?? null]));
      const records: ManifestRecord[] = outcomes.map((o) => ({
        key: o.key,
        etag: etags.get(o.key) ?? null,
        status: o.status as ManifestRecord['status'],
        rowsLoaded: o.rowsLoaded,
        errorCount: parsed.files.find((f) => f.key === o.key)?.errorsSeen ?? 0,
        firstError: firstErrorText(o.errors),
      }));
      const merge = manifestMergeStatement(names, records);
      const written = mergeCounts(await execute(merge.sql, merge.binds));
      if (written.inserted + written.updated < records.length) {
        // Snowflake does not enforce the manifest's primary key: a key the MERGE did not write was recorded
        // by another loader first, which loaded the same file. Keep nothing; the loader re-reads the manifest.
        throw new LoadConflictError(
          `another loader recorded ${records.length - written.inserted - written.updated} of these ${records.length} objects first`,
        );
      }
      await execute('COMMIT');
      return outcomes;
    } catch (err) {
      await execute('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
}

/** Snowflake's "Object '...' does not exist or not authorized" (error 002003, SQL state 42S02). */
function isMissingObject(err: unknown): boolean {
  const e = err as { code?: unknown; sqlState?: unknown };
  return (
    String(e?.code) === '002003' ||
    e?.sqlState === '42S02' ||
    /does not exist or not authorized/i.test(errorMessage(err))
  );
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

function toBind(v: unknown): SnowflakeBind {
  if (v === undefined || v === null) return null;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return JSON.stringify(v);
}

/** Snowflake returns unquoted names upper case; the query contract (and dbt models) use lower case. */
function lowerCaseKeys(row: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[k === k.toUpperCase() ? k.toLowerCase() : k] = v;
  return out;
}
