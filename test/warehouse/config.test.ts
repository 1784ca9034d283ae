import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lambdas/core/errors.ts';
import {
  openWarehouse,
  parseWarehouseConfig,
  warehouseConfigFromEnv,
} from '../../lambdas/core/warehouse/config.ts';

const SNOWFLAKE_ENV = {
  WAREHOUSE: 'snowflake',
  SNOWFLAKE_ACCOUNT: 'myorg-myaccount',
  SNOWFLAKE_USER: 'MDS_LOADER',
  SNOWFLAKE_ROLE: 'MDS_LOADER_ROLE',
  SNOWFLAKE_WAREHOUSE: 'MDS_WH',
  SNOWFLAKE_DATABASE: 'SPOTIFY_MDS',
  SNOWFLAKE_STAGE: 'BRONZE_STAGE',
  SNOWFLAKE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mds/snowflake-key-AbCdEf',
};

describe('warehouse configuration', () => {
  it('reads a complete Snowflake environment, with the schema of an unqualified stage', () => {
    expect(
      warehouseConfigFromEnv({ ...SNOWFLAKE_ENV, SNOWFLAKE_SCHEMA: 'BRONZE', ON_ERROR: 'SKIP_FILE' }),
    ).toEqual({
      kind: 'snowflake',
      account: 'myorg-myaccount',
      user: 'MDS_LOADER',
      role: 'MDS_LOADER_ROLE',
      warehouse: 'MDS_WH',
      database: 'SPOTIFY_MDS',
      stage: 'BRONZE.BRONZE_STAGE',
      stagePrefix: 'bronze/',
      privateKeySecretArn: SNOWFLAKE_ENV.SNOWFLAKE_SECRET_ARN,
      onError: 'SKIP_FILE',
    });
  });

  it('names every missing Snowflake setting at once', () => {
    const partial = { WAREHOUSE: 'snowflake', SNOWFLAKE_ACCOUNT: 'a', SNOWFLAKE_USER: 'u' };
    expect(() => warehouseConfigFromEnv(partial)).toThrow(
      'SNOWFLAKE_ROLE, SNOWFLAKE_WAREHOUSE, SNOWFLAKE_DATABASE, SNOWFLAKE_STAGE, SNOWFLAKE_SECRET_ARN: are not set',
    );
  });

  it('names the setting whose value could be spliced into SQL', () => {
    const bad = { ...SNOWFLAKE_ENV, SNOWFLAKE_DATABASE: 'db; DROP SCHEMA bronze' };
    expect(() => warehouseConfigFromEnv(bad)).toThrow(ConfigError);
    expect(() => warehouseConfigFromEnv(bad)).toThrow(/^SNOWFLAKE_DATABASE: must be a plain SQL identifier/);
    expect(() => warehouseConfigFromEnv({ ...SNOWFLAKE_ENV, ON_ERROR: 'IGNORE' })).toThrow(/^ON_ERROR: /);
    expect(() => warehouseConfigFromEnv({ WAREHOUSE: 'oracle' })).toThrow(
      /^WAREHOUSE: "oracle" is not a warehouse kind/,
    );
    expect(() => warehouseConfigFromEnv({ WAREHOUSE: 'postgres' })).toThrow(/^POSTGRES_URL: is not set/);
    expect(() => parseWarehouseConfig({ kind: 'postgres' })).toThrow(/^warehouse.connectionString: /);
  });

  it('defaults to DuckDB at the given path and opens it', async () => {
    // Prepare
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mds-config-'));
    const config = warehouseConfigFromEnv({}, { duckdbPath: path.join(dir, 'w.duckdb') });

    // Act
    const wh = await openWarehouse(config);

    // Assess
    try {
      expect(config).toEqual({ kind: 'duckdb', path: path.join(dir, 'w.duckdb'), onError: 'CONTINUE' });
      expect(wh.kind).toBe('duckdb');
      expect(await wh.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await wh.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
