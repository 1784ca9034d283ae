/**
 * The local pipeline's warehouse, shared by this process and the Lambda execution environments: the DuckDB
 * file (default) or a Postgres server. A DuckDB file has one writer at a time, and two instances of it in one
 * process do not see each other's writes, so every user takes the lease in turn: the workflow's Loader and
 * Reconcile invocations (around each invocation), the embedded dbt runner, and the CLI's own queries. Each
 * use opens the warehouse and closes it again, so the next holder reads what the last one committed. Postgres
 * admits concurrent sessions; the lease keeps the same order there, so both engines run the same sequence.
 */
import { openDuckDbWarehouse } from '../../lambdas/core/warehouse/duckdb.ts';
import type { PostgresOptions } from '../../lambdas/core/warehouse/postgres.ts';
import type { Row, Warehouse } from '../../lambdas/core/warehouse/types.ts';
import { postgresDbtAdapter, type DbtConnection } from '../dbt/adapter.ts';

/** Where the warehouse is: a DuckDB file, or a Postgres server (the password from the environment). */
export type WarehouseTarget =
  | { readonly kind: 'duckdb'; readonly path: string }
  | {
      readonly kind: 'postgres';
      /** postgres://USER@HOST:PORT/DB, without the password: for messages and the run summary. */
      readonly display: string;
      readonly connection: Required<Pick<PostgresOptions, 'host' | 'port' | 'user' | 'database'>> &
        Pick<PostgresOptions, 'password' | 'ssl'>;
    };

export class WarehouseLease {
  private tail: Promise<unknown> = Promise.resolve();
  readonly target: WarehouseTarget;

  constructor(target: WarehouseTarget | string) {
    this.target = typeof target === 'string' ? { kind: 'duckdb', path: target } : target;
  }

  /** The DuckDB file, or the Postgres URL without its password. */
  get description(): string {
    return this.target.kind === 'duckdb' ? this.target.path : this.target.display;
  }

  /** Runs `fn` while no other holder has the warehouse. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Opens the warehouse for `fn` alone and closes it afterwards. */
  use<T>(fn: (warehouse: Warehouse) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      const warehouse = await this.open();
      try {
        return await fn(warehouse);
      } finally {
        await warehouse.close();
      }
    });
  }

  /**
   * The embedded dbt runner's connection, for `fn` alone: DuckDB's (with `connect` for one more per dbt
   * thread), or one Postgres session (no more: its nodes run one at a time).
   */
  dbt<T>(fn: (connection: DbtConnection, connect?: () => Promise<DbtConnection>) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      if (this.target.kind === 'duckdb') {
        const wh = await openDuckDbWarehouse({ path: this.target.path });
        try {
          return await fn(wh.connection, () => wh.connect());
        } finally {
          await wh.close();
        }
      }
      const { openPostgresWarehouse } = await import('../../lambdas/core/warehouse/postgres.ts');
      const wh = await openPostgresWarehouse({ ...this.target.connection, maxConnections: 1 });
      const client = await wh.pool.connect();
      try {
        return await fn(postgresDbtAdapter(client));
      } finally {
        client.release();
        await wh.close();
      }
    });
  }

  /** One query, under the lease. */
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.use((wh) => wh.query<T>(sql, params));
  }

  /**
   * A connection of its own, outside the lease: for a reader whose queries may overlap a holder's (the
   * dashboard); the caller closes it.
   */
  async open(): Promise<Warehouse> {
    if (this.target.kind === 'duckdb') return openDuckDbWarehouse({ path: this.target.path });
    const { openPostgresWarehouse } = await import('../../lambdas/core/warehouse/postgres.ts');
    return openPostgresWarehouse({ ...this.target.connection, maxConnections: 2 });
  }
}
