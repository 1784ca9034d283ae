/**
 * The Reconcile function's SQL on Postgres: the same Bronze objects loaded by the loader into a real
 * Postgres server, Silver and Gold derived with the dbt models' logic in plain SQL (the embedded dbt runner
 * builds DuckDB only), and the same corruptions as on DuckDB. Each test gets a database copied from the
 * clean one (CREATE DATABASE ... TEMPLATE).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBronze } from '../../lambdas/loader/load.ts';
import { openPostgresWarehouse } from '../../lambdas/core/warehouse/postgres.ts';
import type { Warehouse } from '../../lambdas/core/warehouse/types.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { buildDataset, type Dataset } from './dataset.ts';
import { reconcileContract } from './contract.ts';

const CLEAN = 'reconcile_clean';
let data: Dataset;
let server: TestPostgres;
let admin: pg.Client;
let cleanSilverRows = 0;
let copies = 0;

const MODELS = [
  `create table silver.stg_spotify__events as
   select event_id, user_id, song_id, artist_name, song_name, event_type, device_type, country,
          event_timestamp, date_trunc('hour', event_timestamp) as event_hour, duration_ms,
          kafka_topic, kafka_partition, kafka_offset, loaded_at
     from (select b.*, row_number() over (partition by event_id order by kafka_partition, kafka_offset) as rn
             from bronze.listening_events b where event_id is not null) x
    where rn = 1`,
  `create table gold.plays_per_hour as
   select event_hour as hour_start, count(*) as events, count(case when event_type = 'play' then 1 end) as plays
     from silver.stg_spotify__events group by event_hour`,
  `create table gold.track_days as
   select cast(event_timestamp as date) as event_date, song_id, min(song_name) as song_name,
          min(artist_name) as artist_name, count(*) as plays, count(*) as streams, 0.0 as minutes_listened,
          count(distinct user_id) as listeners
     from silver.stg_spotify__events where event_type = 'play' group by 1, 2`,
  `create table gold.artist_days as
   select cast(event_timestamp as date) as event_date, artist_name, count(*) as plays, count(*) as streams,
          0.0 as minutes_listened, count(distinct user_id) as listeners
     from silver.stg_spotify__events where event_type = 'play' group by 1, 2`,
];

beforeAll(async () => {
  data = await buildDataset({ events: 4_000, hours: 2, seed: 11 });
  server = await startPostgres();
  admin = new pg.Client({ host: server.host, port: server.port, user: server.user, database: 'postgres' });
  await admin.connect();
  const wh = await openPostgresWarehouse({ connectionString: await server.createDatabase(CLEAN) });
  try {
    await wh.ensureBronze();
    const load = await loadBronze(
      { s3: data.s3, bucket: data.bucket, warehouse: wh },
      { windowStart: data.window.start, windowEnd: data.window.end, lookbackHours: 0 },
    );
    if (!load.complete || load.errors.length)
      throw new Error(`the dataset did not load: ${JSON.stringify(load)}`);
    for (const sql of MODELS) await wh.query(sql);
    const [row] = await wh.query<{ n: number }>('select count(*) as n from silver.stg_spotify__events');
    cleanSilverRows = Number(row?.n);
  } finally {
    await wh.close();
  }
}, 180_000);

afterAll(async () => {
  await admin?.end().catch(() => undefined);
  await server?.stop();
  await data?.close();
});

async function copyWarehouse(): Promise<Warehouse> {
  const name = `reconcile_copy_${++copies}`;
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${CLEAN}`);
  return openPostgresWarehouse({
    connectionString: `postgresql://${server.user}@/${name}?host=${encodeURIComponent(server.host)}&port=${server.port}`,
  });
}

describe('the Postgres dataset', () => {
  it('has the Silver of the dbt project on DuckDB', async () => {
    const duck = await data.copyWarehouse();
    try {
      const [row] = await duck.query<{ n: number }>('select count(*) as n from silver.stg_spotify__events');
      expect(cleanSilverRows).toBe(Number(row?.n));
    } finally {
      await duck.close();
    }
  });
});

reconcileContract(() => ({ s3: data.s3, bucket: data.bucket, window: data.window, copyWarehouse }));
