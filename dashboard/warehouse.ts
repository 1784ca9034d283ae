/**
 * What the dashboard needs from a warehouse (only `query`, and `close` when it owns the connection), and
 * how it opens the local DuckDB file: read-only through the project's DuckDB adapter, with a missing or
 * locked file turned into an error whose message tells the user what to do.
 */
import { access } from 'node:fs/promises';
import { ConfigError, TransientError, errorMessage } from '../lambdas/core/errors.ts';
import { openDuckDbWarehouse } from '../lambdas/core/warehouse/duckdb.ts';
import type { Warehouse } from '../lambdas/core/warehouse/types.ts';

export type GoldWarehouse = Pick<Warehouse, 'query'> & Partial<Pick<Warehouse, 'close'>>;

/**
 * Opens the DuckDB warehouse file read-only. DuckDB admits one writing process per file, so while the
 * pipeline writes, opening fails; that is a TransientError the page shows and the next request retries.
 */
export async function openGoldReader(file: string): Promise<GoldWarehouse> {
  try {
    await access(file);
  } catch {
    throw new ConfigError(
      'warehouse file',
      `${file} does not exist yet`,
      'Run `npx mds local up --once` to build Gold, or pass --data DIR pointing at an existing data directory',
    );
  }
  try {
    return await openDuckDbWarehouse({ path: file, readOnly: true });
  } catch (err) {
    throw new TransientError(`${errorMessage(err)} (the dashboard tries again on the next page load)`, {
      cause: err,
    });
  }
}
