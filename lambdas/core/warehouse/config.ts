/**
 * Warehouse configuration: one validated shape per engine, read from settings (environment variables on
 * Lambda and in the CLI), and the `openWarehouse` factory. Errors name the setting and the fix.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { IDENTIFIER_RE } from './sql.ts';
import { ON_ERROR_POLICIES, type Warehouse } from './types.ts';

const identifier = z.string().regex(IDENTIFIER_RE, 'must be a plain SQL identifier (letters, digits, _)');
const onError = z.enum(ON_ERROR_POLICIES).default('CONTINUE');

export const DuckDbConfigSchema = z.object({
  kind: z.literal('duckdb'),
  path: z.string().min(1),
  readOnly: z.boolean().optional(),
  onError,
});

export const PostgresConfigSchema = z
  .object({
    kind: z.literal('postgres'),
    connectionString: z.string().min(1).optional(),
    host: z.string().min(1).optional(),
    port: z.int().min(1).max(65535).optional(),
    database: z.string().min(1).optional(),
    user: z.string().min(1).optional(),
    password: z.string().optional(),
    ssl: z.boolean().optional(),
    onError,
  })
  .refine((c) => c.connectionString !== undefined || c.host !== undefined, {
    message: 'give connectionString or host (with port, database, user)',
    path: ['connectionString'],
  });

/**
 * The Snowflake settings a stack has, the one source of truth for both places they are written: an environment's
 * `warehouse` in lib/config is these plus the storage integration's trust, and a function's connection
 * (SnowflakeConfigSchema, from the SNOWFLAKE_* variables) is these less `schema`, which qualifies the stage.
 */
export const SnowflakeSettingsSchema = z.object({
  account: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'must be an account identifier such as myorg-myaccount or xy12345.eu-west-1'),
  user: z.string().min(1, 'must name the Snowflake user'),
  role: identifier,
  warehouse: identifier,
  database: identifier,
  /** The schema of the Bronze tables, and of an unqualified stage. */
  schema: identifier,
  stage: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/, 'must be NAME or SCHEMA.NAME'),
});

export type SnowflakeSettings = z.infer<typeof SnowflakeSettingsSchema>;

export const SnowflakeConfigSchema = z.object({
  kind: z.literal('snowflake'),
  ...SnowflakeSettingsSchema.omit({ schema: true }).shape,
  stagePrefix: z
    .string()
    .regex(/^[A-Za-z0-9=_.-]+(\/[A-Za-z0-9=_.-]+)*\/$/)
    .default('bronze/'),
  privateKeySecretArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:secretsmanager:/, 'must be a Secrets Manager secret ARN'),
  onError,
});

export const WarehouseConfigSchema = z.discriminatedUnion('kind', [
  DuckDbConfigSchema,
  PostgresConfigSchema,
  SnowflakeConfigSchema,
]);

export type WarehouseConfig = z.infer<typeof WarehouseConfigSchema>;
export type WarehouseConfigInput = z.input<typeof WarehouseConfigSchema>;

/** Validates a configuration object; the error names the first bad setting (`warehouse.<field>`). */
export function parseWarehouseConfig(input: unknown): WarehouseConfig {
  const result = WarehouseConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const setting = ['warehouse', ...(issue?.path ?? []).map(String)].join('.');
  throw new ConfigError(
    setting,
    issue?.message ?? 'invalid',
    'See docs/warehouse.md, section "Configuration", for the settings',
  );
}

/**
 * Opens the configured warehouse. Each adapter is imported only when it is the one configured, so a function
 * starts without loading (or, for a native binding, even having) the drivers of the other engines.
 */
export async function openWarehouse(config: WarehouseConfigInput | WarehouseConfig): Promise<Warehouse> {
  const c = parseWarehouseConfig(config);
  switch (c.kind) {
    case 'duckdb':
      return (await import('./duckdb.ts')).openDuckDbWarehouse({ path: c.path, readOnly: c.readOnly });
    case 'postgres':
      return (await import('./postgres.ts')).openPostgresWarehouse(c);
    case 'snowflake':
      return (await import('./snowflake.ts')).openSnowflakeWarehouse(c);
  }
}

/** The environment variables of each engine (documented in docs/warehouse.md, section "Configuration"). */
export const SNOWFLAKE_ENV = {
  account: 'SNOWFLAKE_ACCOUNT',
  user: 'SNOWFLAKE_USER',
  role: 'SNOWFLAKE_ROLE',
  warehouse: 'SNOWFLAKE_WAREHOUSE',
  database: 'SNOWFLAKE_DATABASE',
  stage: 'SNOWFLAKE_STAGE',
  privateKeySecretArn: 'SNOWFLAKE_SECRET_ARN',
} as const;

/**
 * The connection variables, named as `warehouseConfigFromEnv` reads them (SNOWFLAKE_ENV): for the dbt
 * container, and part of every function's `snowflakeFunctionEnvironment`.
 */
export function snowflakeConnectionEnvironment(s: SnowflakeSettings): Record<string, string> {
  return {
    [SNOWFLAKE_ENV.account]: s.account,
    [SNOWFLAKE_ENV.user]: s.user,
    [SNOWFLAKE_ENV.role]: s.role,
    [SNOWFLAKE_ENV.warehouse]: s.warehouse,
    [SNOWFLAKE_ENV.database]: s.database,
    SNOWFLAKE_SCHEMA: s.schema,
  };
}

/** The environment a function with a Snowflake warehouse needs: what `warehouseConfigFromEnv` reads. */
export function snowflakeFunctionEnvironment(
  s: SnowflakeSettings,
  secretArn: string,
): Record<string, string> {
  return {
    ...snowflakeConnectionEnvironment(s),
    WAREHOUSE: 'snowflake',
    [SNOWFLAKE_ENV.stage]: s.stage,
    [SNOWFLAKE_ENV.privateKeySecretArn]: secretArn,
  };
}

/**
 * The warehouse configuration from environment variables (the Lambda environment and the CLI's):
 * WAREHOUSE (duckdb | postgres | snowflake, default duckdb), DUCKDB_PATH (default `defaults.duckdbPath`),
 * POSTGRES_URL, the SNOWFLAKE_* variables of SNOWFLAKE_ENV (SNOWFLAKE_SCHEMA, when set, is the schema of an
 * unqualified SNOWFLAKE_STAGE) and ON_ERROR. Every missing setting is named at once.
 */
export function warehouseConfigFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  defaults: { duckdbPath?: string } = {},
): WarehouseConfig {
  const kind = env.WAREHOUSE || 'duckdb';
  const common = env.ON_ERROR ? { onError: env.ON_ERROR } : {};
  const envNames: Record<string, string> = { ...SNOWFLAKE_ENV, onError: 'ON_ERROR' };
  let input: Record<string, unknown>;
  switch (kind) {
    case 'duckdb': {
      const path = env.DUCKDB_PATH || defaults.duckdbPath;
      if (!path) throw new ConfigError('DUCKDB_PATH', 'is not set', 'Set it to the DuckDB warehouse file');
      input = { kind, path };
      break;
    }
    case 'postgres':
      if (!env.POSTGRES_URL) {
        throw new ConfigError(
          'POSTGRES_URL',
          'is not set',
          'Set it to postgresql://user:password@host:port/database',
        );
      }
      input = { kind, connectionString: env.POSTGRES_URL };
      break;
    case 'snowflake': {
      const missing = Object.values(SNOWFLAKE_ENV).filter((name) => !env[name]);
      if (missing.length > 0) {
        throw new ConfigError(
          missing.join(', '),
          `${missing.length === 1 ? 'is' : 'are'} not set, so the Snowflake warehouse is not configured`,
          'Set them as described in docs/warehouse.md, section "Configuration" (one-time account setup: docs/snowflake-setup.sql)',
        );
      }
      input = {
        kind,
        ...Object.fromEntries(Object.entries(SNOWFLAKE_ENV).map(([field, name]) => [field, env[name]])),
      };
      const stage = env.SNOWFLAKE_STAGE as string;
      if (env.SNOWFLAKE_SCHEMA && !stage.includes('.')) input.stage = `${env.SNOWFLAKE_SCHEMA}.${stage}`;
      break;
    }
    default:
      throw new ConfigError(
        'WAREHOUSE',
        `${JSON.stringify(kind)} is not a warehouse kind`,
        'Use duckdb, postgres or snowflake',
      );
  }
  const result = WarehouseConfigSchema.safeParse({ ...input, ...common });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = String(issue?.path[0] ?? '');
  throw new ConfigError(
    envNames[field] ?? `warehouse.${field}`,
    issue?.message ?? 'invalid',
    'See docs/warehouse.md, section "Configuration"',
  );
}
