/**
 * `mds snowflake setup-sql --env <dev|prod>`: prints the one-time Snowflake setup SQL of an environment,
 * generated from its settings in lib/config/environments.ts (the `warehouse` block), with the same
 * `mds:<env>` overrides the CDK app takes (`--overrides <json>`). Nothing is sent to Snowflake: an
 * administrator runs the output (docs/deploy.md, "First deploy, step by step").
 */
import { Command } from 'commander';
import { ConfigError, UsageError, errorMessage } from '../../lambdas/core/errors.ts';
import {
  WAREHOUSE_SIZES,
  snowflakeSetupSql,
  type WarehouseSize,
} from '../../lambdas/core/warehouse/snowflake-sql.ts';
import { ENVIRONMENT_NAMES, loadConfig } from '../../lib/config/environments.ts';

export interface SetupSqlOptions {
  readonly env: string;
  /** JSON deep-merged over the environment's settings, as the context key mds:<env>. */
  readonly overrides?: string;
  readonly bucket?: string;
  readonly integrationRoleArn?: string;
  /** @default 'XSMALL' */
  readonly warehouseSize?: string;
}

const OVERRIDES_EXAMPLE = `'{"warehouse":{"role":"MDS_TEST"}}'`;
// S3 bucket names: 3-63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit.
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

export function registerSnowflake(program: Command): void {
  const snowflake = program
    .command('snowflake')
    .description('Snowflake account setup for a deployed environment');
  snowflake
    .command('setup-sql')
    .description(
      'print the one-time setup SQL of an environment: warehouse, database, schemas, role, user, storage ' +
        'integration, stage, the Bronze table and load manifest, and every grant the loader and dbt use',
    )
    .requiredOption('--env <name>', `the environment: ${ENVIRONMENT_NAMES.join(' or ')}`)
    .option(
      '--overrides <json>',
      `settings merged over the environment's, as the context key mds:<env>, e.g. ${OVERRIDES_EXAMPLE}`,
    )
    .option(
      '--bucket <name>',
      'the Bronze bucket, output BronzeBucketName of Mds-<env>-Storage (else a placeholder)',
    )
    .option(
      '--integration-role-arn <arn>',
      'output StorageIntegrationRoleArn of Mds-<env>-Pipeline (else a placeholder)',
    )
    .option(
      '--warehouse-size <size>',
      `the warehouse size if it is created: ${WAREHOUSE_SIZES.join(', ')}`,
      'XSMALL',
    )
    .action((flags: SetupSqlOptions) => {
      process.stdout.write(setupSqlFor(flags));
    });
}

/** The setup SQL for the command's options; bad input is a one-line UsageError naming the flag or setting. */
export function setupSqlFor(options: SetupSqlOptions): string {
  const env = options.env;
  if (!(ENVIRONMENT_NAMES as readonly string[]).includes(env)) {
    throw new UsageError(
      `--env: ${JSON.stringify(env)} is not an environment; use --env ${ENVIRONMENT_NAMES.join(' or --env ')}`,
    );
  }
  let overrides: unknown;
  if (options.overrides !== undefined) {
    try {
      overrides = JSON.parse(options.overrides);
    } catch {
      throw new UsageError(`--overrides: is not valid JSON; pass an object such as ${OVERRIDES_EXAMPLE}`);
    }
    if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
      throw new UsageError(`--overrides: must be a JSON object such as ${OVERRIDES_EXAMPLE}`);
    }
  }
  const size = (options.warehouseSize ?? 'XSMALL').toUpperCase();
  if (!(WAREHOUSE_SIZES as readonly string[]).includes(size)) {
    throw new UsageError(
      `--warehouse-size: ${JSON.stringify(options.warehouseSize)} is not one of ${WAREHOUSE_SIZES.join(', ')}`,
    );
  }
  if (options.bucket !== undefined && !BUCKET_NAME.test(options.bucket)) {
    throw new UsageError(
      `--bucket: ${JSON.stringify(options.bucket)} is not an S3 bucket name; pass the output BronzeBucketName of Mds-${env}-Storage`,
    );
  }
  if (options.integrationRoleArn !== undefined && !ROLE_ARN.test(options.integrationRoleArn)) {
    throw new UsageError(
      `--integration-role-arn: ${JSON.stringify(options.integrationRoleArn)} is not an IAM role ARN; ` +
        `pass the output StorageIntegrationRoleArn of Mds-${env}-Pipeline`,
    );
  }
  try {
    const wh = loadConfig(env, overrides).warehouse;
    return snowflakeSetupSql({
      envName: env,
      warehouse: wh.warehouse,
      warehouseSize: size as WarehouseSize,
      database: wh.database,
      role: wh.role,
      user: wh.user,
      schema: wh.schema,
      stage: wh.stage,
      bucket: options.bucket,
      integrationRoleArn: options.integrationRoleArn,
    });
  } catch (err) {
    // A wrong setting (from lib/config or --overrides) names itself and its fix; it is bad input here.
    if (err instanceof ConfigError) throw new UsageError(errorMessage(err), { cause: err });
    throw err;
  }
}
