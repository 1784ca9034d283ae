import { afterAll, beforeAll } from 'vitest';
import { openPostgresWarehouse } from '../../lambdas/core/warehouse/postgres.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { describeLoaderContract } from './loader-contract.ts';

let server: TestPostgres;
let n = 0;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

describeLoaderContract('Postgres', {
  async fresh() {
    const connectionString = await server.createDatabase(`loader_${++n}`);
    return {
      // Each open is its own connection pool, as two loader tasks would have.
      open: () => openPostgresWarehouse({ connectionString }),
      dispose: async () => undefined,
    };
  },
});
