import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDbt, type DbtRunResult } from '../../localstack/dbt/index.ts';
import { bronzeRows, insertBronze, type BronzeRow } from './dataset.ts';
import {
  buildProject,
  DBT_PROJECT,
  diffRows,
  unsuccessful,
  readTable,
  tempWarehouse,
  type TempWarehouse,
} from './helpers.ts';
import { GOLD, silver } from './reference.ts';

describe('dbt build on simulated events (duplicates, late events, invalid records)', () => {
  let wh: TempWarehouse;
  let rows: BronzeRow[];
  let invalid: number;
  let build: DbtRunResult;

  beforeAll(async () => {
    // Prepare: two days of events with every kind of fault; Bronze holds what passes the contract.
    wh = await tempWarehouse();
    ({ rows, invalid } = bronzeRows({
      seed: 7,
      events: 30_000,
      start: new Date('2026-03-01T00:00:00Z'),
      end: new Date('2026-03-03T00:00:00Z'),
      users: 150,
      songs: 600,
      duplicateFraction: 0.05,
      lateFraction: 0.05,
      invalidFraction: 0.03,
    }));
    await insertBronze(wh.connection, rows);
    // Act
    build = await buildProject(wh);
  });
  afterAll(async () => wh?.close());

  it('builds every model and passes every test', () => {
    expect(unsuccessful(build)).toEqual([]);
    expect(build.success).toBe(true);
    expect(invalid).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.event_id)).size).toBeLessThan(rows.length);
  });

  it('Silver holds one row per event_id, the copy with the lowest partition and offset', async () => {
    const expected = silver(rows).map((e) => ({
      event_id: e.event_id,
      event_timestamp: e.event_timestamp,
      event_date: e.event_date,
      event_hour: e.event_hour,
      kafka_partition: e.kafka_partition,
      kafka_offset: e.kafka_offset,
    }));
    const actual = await readTable(
      wh.connection,
      '(select event_id, event_timestamp, event_date, event_hour, kafka_partition, kafka_offset from silver.stg_spotify__events)',
    );
    expect(diffRows(actual, expected, ['event_id'])).toEqual([]);
  });

  for (const [table, { compute, key }] of Object.entries(GOLD)) {
    it(`gold.${table} equals the TypeScript computation from the events`, async () => {
      const expected = compute(silver(rows));
      const actual = await readTable(wh.connection, `gold.${table}`);
      expect(actual.length).toBeGreaterThan(0);
      expect(diffRows(actual, expected, key)).toEqual([]);
    });
  }

  it('a planted duplicate in a mart makes its unique test fail', async () => {
    // Prepare
    await wh.connection.run('insert into gold.plays_per_hour select * from gold.plays_per_hour limit 1');
    // Act
    const result = await runDbt({
      projectDir: DBT_PROJECT,
      connection: wh.connection,
      command: 'test',
      select: ['plays_per_hour'],
      targetDir: wh.dir,
    });
    // Assess
    expect(result.success).toBe(false);
    const failed = result.runResults.results.filter((r) => r.status === 'fail');
    // The unique test on the key, and the singular test that reconciles Gold plays with Silver.
    expect(failed.map((r) => r.unique_id).sort()).toEqual([
      'test.spotify_mds.assert_gold_plays_reconcile_with_silver',
      expect.stringMatching(/^test\.spotify_mds\.unique_plays_per_hour_hour_start\.[0-9a-f]{10}$/),
    ]);
    expect(failed.find((r) => r.unique_id.includes('unique_plays_per_hour'))?.failures).toBe(1);
    expect(result.runResults.results.filter((r) => r.status === 'pass').length).toBeGreaterThan(0);
  });
});
