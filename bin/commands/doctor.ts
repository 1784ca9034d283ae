/**
 * `mds doctor --target snowflake|postgres|duckdb`: checks a warehouse's setup and prints one line per
 * check. For Snowflake it needs the SNOWFLAKE_* settings (docs/warehouse.md, section "Configuration") and AWS credentials that
 * can read the key secret; without them it fails naming every missing setting.
 */
import { Command } from 'commander';
import { MdsError, UsageError, errorMessage } from '../../lambdas/core/errors.ts';
import { warehouseConfigFromEnv, type WarehouseConfig } from '../../lambdas/core/warehouse/config.ts';
import { openDuckDbWarehouse } from '../../lambdas/core/warehouse/duckdb.ts';
import { openPostgresWarehouse } from '../../lambdas/core/warehouse/postgres.ts';
import { openSnowflakeWarehouse, type SnowflakeWarehouse } from '../../lambdas/core/warehouse/snowflake.ts';
import {
  bronzeTableName,
  databaseName,
  manifestTableName,
  qualified,
  stageName,
} from '../../lambdas/core/warehouse/snowflake-sql.ts';
import { BRONZE_SCHEMAS, type Warehouse } from '../../lambdas/core/warehouse/types.ts';
import { DEFAULT_DATA_DIR, localPaths } from '../../localstack/paths.ts';

const TARGETS = ['snowflake', 'postgres', 'duckdb'] as const;
type Target = (typeof TARGETS)[number];

interface Check {
  readonly name: string;
  readonly run: () => Promise<string>;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check a warehouse setup (Snowflake: account, key-pair login, schemas, tables, stage); one ok/FAIL line per check, exit 1 if any fails',
    )
    .option(
      '--target <kind>',
      `warehouse to check: ${TARGETS.join(', ')} (snowflake reads the SNOWFLAKE_* settings, postgres POSTGRES_URL)`,
      'duckdb',
    )
    .option('--data <dir>', 'local data directory (DuckDB target)', DEFAULT_DATA_DIR)
    .action(async (flags: { target: string; data: string }) => {
      if (!TARGETS.includes(flags.target as Target)) {
        throw new UsageError(`--target: expected one of ${TARGETS.join(', ')}, got "${flags.target}"`);
      }
      const failed = await runDoctor(
        flags.target as Target,
        process.env,
        localPaths(flags.data).warehouse,
        (line) => console.log(line),
      );
      if (failed > 0) throw new MdsError(`doctor: ${failed} check${failed === 1 ? '' : 's'} failed`);
    });
}

/** Runs the checks of a target and returns how many failed. */
export async function runDoctor(
  target: Target,
  env: Readonly<Record<string, string | undefined>>,
  duckdbPath: string,
  print: (line: string) => void,
): Promise<number> {
  const config = warehouseConfigFromEnv({ ...env, WAREHOUSE: target }, { duckdbPath });
  let warehouse: Warehouse | undefined;
  const checks: Check[] = [
    {
      name: `connect to ${target}`,
      run: async () => {
        warehouse = await connect(config);
        return describe(config);
      },
    },
    ...(config.kind === 'snowflake'
      ? snowflakeChecks(config, () => warehouse as SnowflakeWarehouse)
      : genericChecks(() => warehouse as Warehouse)),
  ];
  let failed = 0;
  try {
    for (const check of checks) {
      try {
        print(`ok    ${check.name}: ${await check.run()}`);
      } catch (err) {
        failed++;
        print(`FAIL  ${check.name}: ${errorMessage(err)}`);
        if (!warehouse) break;
      }
    }
  } finally {
    await warehouse?.close();
  }
  return failed;
}

function connect(config: WarehouseConfig): Promise<Warehouse> {
  switch (config.kind) {
    case 'snowflake':
      return openSnowflakeWarehouse(config);
    case 'postgres':
      return openPostgresWarehouse(config);
    case 'duckdb':
      return openDuckDbWarehouse({ path: config.path });
  }
}

function describe(config: WarehouseConfig): string {
  switch (config.kind) {
    case 'snowflake':
      return `account ${config.account} as ${config.user} (key pair from ${config.privateKeySecretArn})`;
    case 'postgres':
      return 'server reachable';
    case 'duckdb':
      return config.path;
  }
}

function genericChecks(wh: () => Warehouse): Check[] {
  return [
    {
      name: 'Bronze schemas, table and load manifest',
      run: async () => {
        await wh().ensureBronze();
        const [row] = await wh().query<{ objects: number; failed: number }>(
          `SELECT count(*) AS objects, count(*) FILTER (WHERE status = 'failed') AS failed FROM bronze.load_manifest`,
        );
        return `present; manifest holds ${row?.objects ?? 0} objects (${row?.failed ?? 0} failed)`;
      },
    },
  ];
}

function snowflakeChecks(
  config: Extract<WarehouseConfig, { kind: 'snowflake' }>,
  wh: () => SnowflakeWarehouse,
): Check[] {
  const db = databaseName(config);
  return [
    {
      name: 'session role, warehouse and database',
      run: async () => {
        const [row] = await wh().query<Record<string, string | null>>(
          'SELECT CURRENT_ROLE() AS r, CURRENT_WAREHOUSE() AS w, CURRENT_DATABASE() AS d',
        );
        const want = { r: config.role.toUpperCase(), w: config.warehouse.toUpperCase(), d: db };
        const wrong = (['r', 'w', 'd'] as const).filter((k) => row?.[k] !== want[k]);
        if (wrong.length > 0) {
          throw new Error(
            `got role ${row?.r}, warehouse ${row?.w}, database ${row?.d}; expected ${want.r}, ${want.w}, ${want.d} ` +
              '(missing grants? see docs/snowflake-setup.sql)',
          );
        }
        return `${want.r} / ${want.w} / ${want.d}`;
      },
    },
    {
      name: 'schemas BRONZE, SILVER, GOLD',
      run: async () => {
        const rows = await wh().execute(`SHOW SCHEMAS IN DATABASE ${qualified(db)}`);
        const names = new Set(rows.map((r) => String(r.name)));
        const missing = BRONZE_SCHEMAS.map((s) => s.toUpperCase()).filter((s) => !names.has(s));
        if (missing.length > 0)
          throw new Error(`missing ${missing.join(', ')}; run docs/snowflake-setup.sql`);
        return 'present';
      },
    },
    {
      name: 'Bronze table and load manifest',
      run: async () => {
        await wh().ensureBronze();
        await wh().execute(`SELECT 1 FROM ${bronzeTableName(config)} LIMIT 1`);
        const rows = await wh().execute(
          `SELECT COUNT(*) AS N FROM ${manifestTableName(config)} WHERE STATUS = 'failed'`,
        );
        return `present and readable; ${String(rows[0]?.N ?? 0)} failed objects in the manifest`;
      },
    },
    {
      name: `stage ${stageName(config)}`,
      run: async () => {
        const props = await wh().execute(`DESC STAGE ${stageName(config)}`);
        const value = (name: string) =>
          String(props.find((p) => p.property === name)?.property_value ?? '').replace(/^\["?|"?\]$/g, '');
        const url = value('URL');
        const integration = value('STORAGE_INTEGRATION');
        if (!url.endsWith(`/${config.stagePrefix}`)) {
          throw new Error(`URL ${url || '(none)'} does not point at the Bronze prefix ${config.stagePrefix}`);
        }
        if (!integration) throw new Error('has no STORAGE_INTEGRATION (key-less access is required)');
        return `${url} through integration ${integration}`;
      },
    },
    {
      name: 'stage can list Bronze objects',
      run: async () => {
        const today = new Date().toISOString().slice(0, 10);
        const rows = await wh().execute(`LIST @${stageName(config)}/date=${today}/`);
        return `${rows.length} objects for ${today}`;
      },
    },
  ];
}
