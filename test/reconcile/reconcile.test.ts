/** The Reconcile function on DuckDB: the warehouse the loader and the embedded dbt runner build. */
import { afterAll, beforeAll } from 'vitest';
import { buildDataset, type Dataset } from './dataset.ts';
import { reconcileContract } from './contract.ts';

let data: Dataset;

beforeAll(async () => {
  data = await buildDataset({ events: 4_000, hours: 2, seed: 11 });
}, 120_000);
afterAll(async () => {
  await data?.close();
});

reconcileContract(() => data);
