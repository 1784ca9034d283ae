import { afterAll, beforeAll, describe } from 'vitest';
import { openPostgresWarehouse } from '../../lambdas/core/warehouse/postgres.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { queryContract } from './query-contract.ts';

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

describe('Postgres warehouse', () => {
  let n = 0;
  queryContract(async () =>
    openPostgresWarehouse({ connectionString: await server.createDatabase(`q${++n}`) }),
  );
});
