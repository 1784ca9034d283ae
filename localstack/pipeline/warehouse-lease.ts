/**
 * The local DuckDB warehouse, shared by this process and the Lambda execution environments that open it
 * through the `duckdb` layer. A DuckDB file has one writer at a time, and two instances of it in one process
 * do not see each other's writes, so every user takes the lease in turn: the workflow's Loader and Reconcile
 * invocations (around each invocation), the embedded dbt runner, and the CLI's own queries. Each use opens the
 * file and closes it again, so the next holder reads what the last one committed.
 */
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lambdas/core/warehouse/duckdb.ts';
import type { Row } from '../../lambdas/core/warehouse/types.ts';

export class WarehouseLease {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  /** Runs `fn` while no other holder has the file. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Opens the warehouse for `fn` alone and closes it afterwards. */
  use<T>(fn: (warehouse: DuckDbWarehouse) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      const warehouse = await openDuckDbWarehouse({ path: this.path });
      try {
        return await fn(warehouse);
      } finally {
        await warehouse.close();
      }
    });
  }

  /** One query, under the lease. */
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.use((wh) => wh.query<T>(sql, params));
  }
}
