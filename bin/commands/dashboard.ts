/**
 * `mds dashboard [--port P] [--data DIR] [--warehouse duckdb:FILE|postgres://...]`: serves the dashboard over
 * the warehouse's Gold schema on 127.0.0.1 until interrupted. A DuckDB file is opened read-only for each API
 * request and closed after it, so the pipeline can still write between requests; a Postgres warehouse
 * (password from PGPASSWORD) is one pool for the server's life.
 */
import type { Command } from 'commander';
import { UsageError, errorMessage } from '../../lambdas/core/errors.ts';
import { LOCAL_DEFAULTS, localPaths } from '../../localstack/paths.ts';
import { consoleLog, createDashboardServer } from '../../dashboard/server.ts';
import { openGoldReader, type GoldWarehouse } from '../../dashboard/warehouse.ts';
import { ENDPOINT_ENV, resolveEndpoints } from '../../localstack/pipeline/endpoint-settings.ts';

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) {
    throw new UsageError(`--port must be a whole number from 0 to 65535, got ${JSON.stringify(value)}`);
  }
  return port;
}

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description('Serve the listening dashboard over Gold on 127.0.0.1 (Ctrl+C stops it).')
    .option(
      '--port <port>',
      'port on 127.0.0.1 to listen on (0 picks a free one; the log prints the URL)',
      String(LOCAL_DEFAULTS.dashboardPort),
    )
    .option('--data <dir>', 'local data directory holding warehouse.duckdb (default: .mds-data)')
    .option(
      '--warehouse <target>',
      `duckdb:FILE or postgres://USER@HOST:PORT/DB (env ${ENDPOINT_ENV.warehouse}; default the DuckDB file in --data); the password from PGPASSWORD`,
    )
    .action(async (opts: { port: string; data?: string; warehouse?: string }) => {
      const port = parsePort(opts.port);
      const target = resolveEndpoints({ warehouse: opts.warehouse }, process.env).warehouse;
      const file = target?.kind === 'duckdb' ? target.path : localPaths(opts.data).warehouse;
      const log = consoleLog();
      const shared =
        target?.kind === 'postgres'
          ? await (
              await import('../../lambdas/core/warehouse/postgres.ts')
            ).openPostgresWarehouse({ ...target.connection, maxConnections: 2 })
          : undefined;
      // The runs page reads the local executions through the local Step Functions endpoint (mds runs).
      const runs = await localRuns(opts.data);
      const server = await createDashboardServer({
        runs: runs.source,
        warehouse: () => (shared ? Promise.resolve(shared) : openGoldReader(file)),
        ...(shared ? {} : { release: async (wh: GoldWarehouse) => wh.close?.() }),
        port,
        log,
      }).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw new UsageError(
            `Port ${port} is already in use: pass --port with another port (or 0 for any free one)`,
          );
        }
        throw err;
      });
      log.info(`Dashboard at ${server.url}`, {
        warehouse: target?.kind === 'postgres' ? target.display : file,
      });
      await new Promise<void>((resolve) => {
        const stop = () => {
          server.close().then(resolve, (err: unknown) => {
            log.error('Stopping the dashboard failed', { error: errorMessage(err) });
            resolve();
          });
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await runs.close();
      await shared?.close();
    });
}

async function localRuns(data: string | undefined) {
  const { openLocalWorkflow } = await import('../../localstack/workflow/local-workflow.ts');
  const { SFNClient } = await import('@aws-sdk/client-sfn');
  const { sfnRunsSource } = await import('../../dashboard/runs.ts');
  const { readFile } = await import('node:fs/promises');
  const paths = localPaths(data);
  const workflow = await openLocalWorkflow({ dataDir: paths.root });
  const sfn = new SFNClient({
    endpoint: workflow.sfnUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const source = sfnRunsSource({
    sfn,
    stateMachineArn: workflow.stateMachineArn,
    report: (runId) => readFile(`${paths.runs}/${runId}/report.html`, 'utf8').catch(() => undefined),
  });
  return { source, close: () => workflow.close() };
}
