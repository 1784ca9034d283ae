/**
 * The settings of external endpoints for the local pipeline (a Kafka cluster, an S3-API server and its
 * bucket, a DuckDB file or a Postgres server), from flags or from the environment variables a container is
 * configured with: read and validated here, before anything connects; checked in endpoints.ts.
 */
import { UsageError } from '../../lambdas/core/errors.ts';
import type { WarehouseTarget } from './warehouse-lease.ts';

/** The environment variables of each endpoint setting (a flag wins over its variable). */
export const ENDPOINT_ENV = {
  brokers: 'MDS_BROKERS',
  s3Endpoint: 'MDS_S3_ENDPOINT',
  bucket: 'MDS_BUCKET',
  warehouse: 'MDS_WAREHOUSE',
} as const;

export interface EndpointFlags {
  readonly brokers?: string;
  readonly s3Endpoint?: string;
  readonly bucket?: string;
  readonly warehouse?: string;
}

/** What runs outside this process; a setting left out is the embedded stand-in. */
export interface Endpoints {
  readonly brokers?: { readonly list: readonly string[]; readonly setting: string };
  readonly s3?: { readonly endpoint: string; readonly setting: string };
  readonly bucket?: { readonly name: string; readonly setting: string };
  readonly warehouse?: WarehouseTarget & { readonly setting: string };
}

const HOST_PORT_RE = /^[A-Za-z0-9.-]+:(\d{1,5})$/;
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Reads and validates the settings (flags over environment); a bad value is a UsageError naming it. */
export function resolveEndpoints(
  flags: EndpointFlags,
  env: Readonly<Record<string, string | undefined>>,
): Endpoints {
  const pick = (key: keyof EndpointFlags, flag: string) => {
    if (flags[key] !== undefined) return { value: flags[key], setting: flag };
    const v = env[ENDPOINT_ENV[key]];
    return v ? { value: v, setting: ENDPOINT_ENV[key] } : undefined;
  };
  const brokers = pick('brokers', '--brokers');
  const s3 = pick('s3Endpoint', '--s3-endpoint');
  const bucket = pick('bucket', '--bucket');
  const warehouse = pick('warehouse', '--warehouse');
  return {
    ...(brokers
      ? { brokers: { list: parseBrokers(brokers.value, brokers.setting), setting: brokers.setting } }
      : {}),
    ...(s3 ? { s3: { endpoint: parseHttpUrl(s3.value, s3.setting), setting: s3.setting } } : {}),
    ...(bucket
      ? { bucket: { name: parseBucket(bucket.value, bucket.setting), setting: bucket.setting } }
      : {}),
    ...(warehouse
      ? {
          warehouse: {
            ...parseWarehouse(warehouse.value, warehouse.setting, env),
            setting: warehouse.setting,
          },
        }
      : {}),
  };
}

function parseBrokers(value: string, setting: string): string[] {
  const list = value
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  const bad = list.find((b) => {
    const m = HOST_PORT_RE.exec(b);
    return !m || Number(m[1]) < 1 || Number(m[1]) > 65535;
  });
  if (list.length === 0 || bad !== undefined) {
    throw new UsageError(
      `${setting} ${JSON.stringify(value)}: expected HOST:PORT[,HOST:PORT...], the Kafka bootstrap brokers`,
    );
  }
  return list;
}

function parseHttpUrl(value: string, setting: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) {
    throw new UsageError(
      `${setting} ${JSON.stringify(value)}: expected the S3 server's URL, like http://localhost:9000 ` +
        '(credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, never from the URL)',
    );
  }
  return value.replace(/\/+$/, '');
}

function parseBucket(value: string, setting: string): string {
  if (!BUCKET_RE.test(value) || value.includes('..')) {
    throw new UsageError(
      `${setting} ${JSON.stringify(value)}: not an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)`,
    );
  }
  return value;
}

/** `duckdb:FILE` or `postgres://USER@HOST:PORT/DB`; the password is PGPASSWORD's, never part of the setting. */
function parseWarehouse(
  value: string,
  setting: string,
  env: Readonly<Record<string, string | undefined>>,
): WarehouseTarget {
  if (value.startsWith('duckdb:') && value.length > 'duckdb:'.length) {
    return { kind: 'duckdb', path: value.slice('duckdb:'.length) };
  }
  const usage = `expected duckdb:FILE or postgres://USER@HOST:PORT/DB`;
  if (!/^postgres(ql)?:\/\//.test(value))
    throw new UsageError(`${setting} ${JSON.stringify(value)}: ${usage}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${setting} ${JSON.stringify(value)}: ${usage}`);
  }
  if (url.password) {
    throw new UsageError(
      `${setting}: the URL holds a password; remove it and set PGPASSWORD in the environment instead (a flag or URL ends up in shell history and process lists)`,
    );
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!url.username || !url.hostname || !database) {
    throw new UsageError(
      `${setting} ${JSON.stringify(value)}: ${usage} (user, host and database are required)`,
    );
  }
  const port = url.port ? Number(url.port) : 5432;
  const display = `postgres://${url.username}@${url.hostname}:${port}/${database}`;
  return {
    kind: 'postgres',
    display,
    connection: {
      host: url.hostname,
      port,
      user: decodeURIComponent(url.username),
      database,
      ...(env.PGPASSWORD !== undefined ? { password: env.PGPASSWORD } : {}),
      ssl: url.searchParams.get('sslmode') === 'require' || url.searchParams.get('sslmode') === 'verify-full',
    },
  };
}
