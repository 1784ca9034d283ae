/**
 * `mds dbt build|run|test|freshness`: builds Silver and Gold in the local DuckDB warehouse. Uses the dbt CLI
 * (dbt-duckdb) when it is on PATH, otherwise the embedded runner, which shares the warehouse in-process.
 */
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import YAML from 'yaml';
import { UsageError } from '../../lambdas/core/errors.ts';
import { openDuckDbWarehouse } from '../../lambdas/core/warehouse/duckdb.ts';
import { runDbt, runSourceFreshness } from '../../localstack/dbt/index.ts';
import { DEFAULT_DATA_DIR, PROJECT_ROOT, localPaths } from '../../localstack/paths.ts';

interface DbtFlags {
  readonly select?: string[];
  readonly fullRefresh?: boolean;
  readonly vars?: string;
  readonly data: string;
  readonly projectDir: string;
  readonly targetDir?: string;
  readonly runner: string;
  readonly threads?: string;
  readonly failFast?: boolean;
}

/** --threads as dbt takes it: a whole number of at least 1, or unset (the profile's threads). */
function parseThreads(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--threads: expected a whole number of at least 1, got ${JSON.stringify(text)}`);
  }
  return n;
}

const COMMANDS = ['build', 'run', 'test', 'freshness'] as const;
type DbtCommand = (typeof COMMANDS)[number];

function parseVars(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = YAML.parse(text);
  } catch (err) {
    throw new UsageError(`--vars: not YAML or JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(
      `--vars: expected a mapping such as '{silver_lookback_hours: 6}', got ${JSON.stringify(text)}`,
    );
  }
  return value as Record<string, unknown>;
}

/** The dbt executable on PATH, if any. */
async function findDbt(): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, 'dbt');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

async function runCli(dbt: string, command: DbtCommand, flags: DbtFlags, warehouse: string): Promise<number> {
  const args = command === 'freshness' ? ['source', 'freshness'] : [command];
  args.push('--project-dir', flags.projectDir, '--profiles-dir', flags.projectDir, '--target', 'duckdb');
  if (flags.select?.length) args.push('--select', ...flags.select);
  if (flags.fullRefresh && command !== 'test' && command !== 'freshness') args.push('--full-refresh');
  if (flags.vars) args.push('--vars', flags.vars);
  if (flags.targetDir) args.push('--target-path', flags.targetDir);
  if (flags.threads !== undefined) args.push('--threads', flags.threads);
  if (flags.failFast && command !== 'freshness') args.push('--fail-fast');
  const child = spawn(dbt, args, {
    stdio: 'inherit',
    env: { ...process.env, MDS_WAREHOUSE_PATH: warehouse },
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

async function action(command: DbtCommand, flags: DbtFlags): Promise<void> {
  if (!['auto', 'embedded', 'dbt'].includes(flags.runner)) {
    throw new UsageError(`--runner: expected auto, embedded or dbt, got "${flags.runner}"`);
  }
  const vars = parseVars(flags.vars);
  const threads = parseThreads(flags.threads);
  const projectDir = path.resolve(flags.projectDir);
  const warehousePath = localPaths(flags.data).warehouse;
  const dbt = flags.runner === 'embedded' ? undefined : await findDbt();
  if (flags.runner === 'dbt' && !dbt)
    throw new UsageError('--runner dbt: no dbt executable on PATH (install dbt-duckdb)');
  if (dbt) {
    console.log(`using ${dbt}`);
    process.exitCode = await runCli(dbt, command, { ...flags, projectDir }, warehousePath);
    return;
  }
  const warehouse = await openDuckDbWarehouse({ path: warehousePath });
  try {
    const common = {
      projectDir,
      connection: warehouse.connection,
      connect: warehouse.connect,
      targetDir: flags.targetDir,
      threads,
      log: (l: string) => console.log(l),
    };
    const ok =
      command === 'freshness'
        ? (await runSourceFreshness({ ...common, select: flags.select })).success
        : (
            await runDbt({
              ...common,
              command,
              select: flags.select,
              fullRefresh: flags.fullRefresh,
              failFast: flags.failFast,
              vars,
            })
          ).success;
    if (!ok) process.exitCode = 1;
  } finally {
    await warehouse.close();
  }
}

export function registerDbt(program: Command): void {
  const dbt = program
    .command('dbt')
    .description(
      'Build Silver and Gold with dbt on the local DuckDB warehouse (dbt CLI if installed, else the embedded runner).',
    );
  for (const command of COMMANDS) {
    dbt
      .command(command)
      .description(
        (command === 'freshness'
          ? 'dbt source freshness: how long ago Bronze was last loaded, against the warn/error thresholds'
          : `dbt ${command}${command === 'build' ? ': models and their tests in DAG order' : ''}`) +
          '. Exit code 0 when everything passed, 1 when anything failed, 2 for bad flags',
      )
      .option(
        '-s, --select <selector...>',
        'nodes, as dbt selects them: a name or fqn (marts.plays_per_hour, staging.stg_*), +name, 2+name, ' +
          'name+, name+1, @name, tag:x, path:models/marts, source:bronze, resource_type:model, ' +
          'test_type:singular; several selectors are a union, commas intersect (a,b); one that matches ' +
          'nothing is a warning, as in dbt',
      )
      .option('--full-refresh', 'rebuild incremental models from scratch')
      .option(
        '--threads <n>',
        "how many nodes run at once (each on its own connection); default the profile's threads",
      )
      .option('-x, --fail-fast', 'stop at the first node that fails; the nodes not run yet are skipped')
      .option('--vars <yaml>', "project variables, e.g. '{silver_lookback_hours: 6}'")
      .option('--data <dir>', 'local data directory holding warehouse.duckdb', DEFAULT_DATA_DIR)
      .option('--project-dir <dir>', 'the dbt project', path.join(PROJECT_ROOT, 'dbt'))
      .option(
        '--target-dir <dir>',
        'where run_results.json and compiled/ (the compiled SQL) go (default <project-dir>/target)',
      )
      .option(
        '--runner <kind>',
        'auto (the dbt CLI when on PATH, with dbt-duckdb; else embedded), embedded or dbt',
        'auto',
      )
      .action((flags: DbtFlags) => action(command, flags));
  }
}
