/**
 * MDS_DUCKDB_MEMORY_LIMIT reaches the local Lambda functions that open the DuckDB file (the Loader, Reconcile),
 * whose environment is otherwise their template's: set, it is one of their local overrides; unset, they keep
 * DuckDB's default of lambdas/core/warehouse/duckdb.ts, as RunDbt in the `mds` process does.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeAssembly, type CloudAssembly } from '../../localstack/lambda/assembly.ts';
import { localFunctionSetup, type LocalEndpoints } from '../../localstack/lambda/local-functions.ts';

const endpoints: LocalEndpoints = {
  region: 'us-east-1',
  bucket: 'memory-limit-test',
  s3Endpoint: 'http://127.0.0.1:1',
  warehouse: { kind: 'duckdb', path: '/nonexistent/warehouse.duckdb' },
  warehouseLock: (fn) => fn(),
};

let assembly: CloudAssembly;
const saved = process.env.MDS_DUCKDB_MEMORY_LIMIT;

beforeAll(async () => {
  assembly = await synthesizeAssembly({ envName: 'dev' });
}, 180_000);

afterEach(() => {
  if (saved === undefined) delete process.env.MDS_DUCKDB_MEMORY_LIMIT;
  else process.env.MDS_DUCKDB_MEMORY_LIMIT = saved;
});

const setup = (id: string) => {
  const spec = assembly.functions.find((f) => f.id === id);
  if (!spec) throw new Error(`no function ${id} in the assembly`);
  return localFunctionSetup(assembly, spec, endpoints);
};

describe('MDS_DUCKDB_MEMORY_LIMIT in the local functions', () => {
  it.each(['Loader', 'Reconcile'])('%s gets the limit this process has', (id) => {
    process.env.MDS_DUCKDB_MEMORY_LIMIT = '3GB';
    const s = setup(id);
    expect(s.environment.MDS_DUCKDB_MEMORY_LIMIT).toBe('3GB');
    expect(s.overrides).toContain('MDS_DUCKDB_MEMORY_LIMIT');
  });

  it('without it, no function gets one (DuckDB has its default)', () => {
    delete process.env.MDS_DUCKDB_MEMORY_LIMIT;
    expect(setup('Loader').environment.MDS_DUCKDB_MEMORY_LIMIT).toBeUndefined();
  });

  it('a function without the warehouse does not get it', () => {
    process.env.MDS_DUCKDB_MEMORY_LIMIT = '3GB';
    expect(setup('Consumer').environment.MDS_DUCKDB_MEMORY_LIMIT).toBeUndefined();
  });
});
