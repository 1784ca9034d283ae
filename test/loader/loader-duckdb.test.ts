import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openDuckDbWarehouse } from '../../lambdas/core/warehouse/duckdb.ts';
import { describeLoaderContract } from './loader-contract.ts';

describeLoaderContract('DuckDB', {
  async fresh() {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mds-loader-duckdb-'));
    const file = path.join(dir, 'warehouse.duckdb');
    return {
      // Each open is another connection on the same in-process database, as two loaders in one process.
      open: () => openDuckDbWarehouse({ path: file }),
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  },
});
