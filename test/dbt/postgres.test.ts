/**
 * The dbt project on a real Postgres server through the embedded runner: the same Bronze rows as on DuckDB
 * (every kind of fault: duplicates, late events, invalid records left out), built on both; every model and
 * test passes on Postgres, an incremental re-run merges nothing, and every Gold table holds the same rows on
 * both engines.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lambdas/core/warehouse/duckdb.ts';
import { openPostgresWarehouse, type PostgresWarehouse } from '../../lambdas/core/warehouse/postgres.ts';
import { postgresDbtAdapter } from '../../localstack/dbt/adapter.ts';
import { runDbt, type DbtRunResult } from '../../localstack/dbt/index.ts';
import { goldRows } from '../helpers/gold-rows.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { bronzeRows, insertBronze } from './dataset.ts';
import { DBT_PROJECT } from './helpers.ts';

const notOk = (r: DbtRunResult): string[] =>
  r.runResults.results
    .filter((x) => x.status !== 'success' && x.status !== 'pass')
    .map((x) => `${x.unique_id}: ${x.status} ${x.message}`);

describe('the dbt project on Postgres (embedded runner)', () => {
  let dir: string;
  let server: TestPostgres;
  let duck: DuckDbWarehouse;
  let pgw: PostgresWarehouse;
  let client: pg.PoolClient;
  let duckBuild: DbtRunResult;
  let pgBuild: DbtRunResult;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dbt-pg-'));
    server = await startPostgres();
    duck = await openDuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
    pgw = await openPostgresWarehouse({ connectionString: await server.createDatabase('dbt_pg') });
    await duck.ensureBronze();
    await pgw.ensureBronze();
    const { rows } = bronzeRows({
      seed: 7,
      events: 8_000,
      start: new Date('2026-03-01T00:00:00Z'),
      end: new Date('2026-03-02T12:00:00Z'),
      users: 60,
      songs: 300,
      duplicateFraction: 0.05,
      lateFraction: 0.05,
      invalidFraction: 0.03,
    });
    await insertBronze(duck.connection, rows);
    // The same Bronze rows on Postgres, column for column (timestamps as ISO text, read as UTC).
    const bronze = await duck.query('select * from bronze.listening_events');
    for (let i = 0; i < bronze.length; i += 2_000) {
      await pgw.query(
        'insert into bronze.listening_events select * from json_populate_recordset(null::bronze.listening_events, $1)',
        [JSON.stringify(bronze.slice(i, i + 2_000))],
      );
    }
    duckBuild = await runDbt({
      projectDir: DBT_PROJECT,
      connection: duck.connection,
      command: 'build',
      targetDir: path.join(dir, 'duckdb'),
    });
    client = await pgw.pool.connect();
    pgBuild = await runDbt({
      projectDir: DBT_PROJECT,
      connection: postgresDbtAdapter(client),
      command: 'build',
      targetDir: path.join(dir, 'postgres'),
    });
  }, 240_000);

  afterAll(async () => {
    client?.release();
    await pgw?.close();
    await duck?.close();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('builds every model and passes every test on Postgres, as on DuckDB', () => {
    expect(notOk(duckBuild)).toEqual([]);
    expect(notOk(pgBuild)).toEqual([]);
    expect(pgBuild.runResults.args.target).toBe('postgres');
  });

  it('holds the same Silver and the same rows in every Gold table on both engines', async () => {
    const count = 'select count(*) as n from silver.stg_spotify__events';
    const [d] = await duck.query<{ n: number }>(count);
    const [p] = await pgw.query<{ n: number }>(count);
    expect(p?.n).toBe(d?.n);
    expect(d?.n).toBeGreaterThan(0);
    const [onDuck, onPg] = [await goldRows(duck), await goldRows(pgw)];
    for (const table of Object.keys(onDuck)) {
      expect(onPg[table]?.length, table).toBeGreaterThan(0);
      expect(onPg[table], table).toEqual(onDuck[table]);
    }
  });

  it('an incremental re-run with nothing new merges no row into Silver', async () => {
    const again = await runDbt({
      projectDir: DBT_PROJECT,
      connection: postgresDbtAdapter(client),
      command: 'run',
      select: ['stg_spotify__events'],
      targetDir: path.join(dir, 'postgres'),
    });
    expect(notOk(again)).toEqual([]);
    const silver = again.runResults.results.find((r) => r.unique_id.endsWith('stg_spotify__events'));
    expect(silver?.adapter_response).toMatchObject({ rows_affected: 0 });
  });
});
