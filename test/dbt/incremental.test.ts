import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDbt } from '../../localstack/dbt/index.ts';
import { bronzeRows, insertBronze, type BronzeRow } from './dataset.ts';
import { DBT_PROJECT, diffRows, readTable, tempWarehouse, type TempWarehouse } from './helpers.ts';
import { GOLD, silver } from './reference.ts';

const TABLES: readonly [string, readonly string[]][] = [
  ['silver.stg_spotify__events', ['event_id']],
  ...Object.entries(GOLD).map(([t, { key }]): [string, readonly string[]] => [`gold.${t}`, key]),
];

async function snapshot(wh: TempWarehouse): Promise<Map<string, Awaited<ReturnType<typeof readTable>>>> {
  const out = new Map<string, Awaited<ReturnType<typeof readTable>>>();
  for (const [table] of TABLES) out.set(table, await readTable(wh.connection, table));
  return out;
}

describe('incremental Silver', () => {
  let wh: TempWarehouse;
  let first: BronzeRow[];
  let nextHour: BronzeRow[];

  beforeAll(async () => {
    wh = await tempWarehouse();
    const { rows } = bronzeRows({
      seed: 11,
      events: 12_000,
      start: new Date('2026-04-01T00:00:00Z'),
      end: new Date('2026-04-01T12:00:00Z'),
      users: 80,
      songs: 300,
      duplicateFraction: 0.05,
      lateFraction: 0.1,
      invalidFraction: 0.02,
    });
    // Everything loaded up to the last load time is the first batch; the last hourly load is "an hour later".
    const lastLoad = rows.reduce((max, r) => (r.loaded_at > max ? r.loaded_at : max), '');
    const hourBefore = new Date(Date.parse(lastLoad) - 3_600_000).toISOString();
    first = rows.filter((r) => r.loaded_at < hourBefore);
    nextHour = rows.filter((r) => r.loaded_at >= hourBefore);
    // A copy, loaded in the added hour, of an event Silver already holds, at an earlier Kafka position: it must
    // replace Silver's row, as it would in a full refresh (later copies must not, and are left out).
    const beaten = first.find((r) => r.kafka_partition > 0)!;
    nextHour.push({
      ...beaten,
      kafka_partition: 0,
      kafka_offset: 0,
      loaded_at: nextHour[0]!.loaded_at,
      source_file: 'bronze/replayed.ndjson.gz',
    });
  });
  afterAll(async () => wh?.close());

  const build = (fullRefresh = false) =>
    runDbt({
      projectDir: DBT_PROJECT,
      connection: wh.connection,
      command: 'build',
      fullRefresh,
      targetDir: wh.dir,
    });

  it('an added hour with late events for earlier hours, built incrementally, equals a full refresh', async () => {
    // Prepare: the added hour really carries late events (event hour before the hour of the first batch's end).
    const firstEnd = first.reduce((max, r) => (r.timestamp > max ? r.timestamp : max), '');
    expect(nextHour.some((r) => r.timestamp < new Date(Date.parse(firstEnd) - 3_600_000).toISOString())).toBe(
      true,
    );
    await insertBronze(wh.connection, first);
    const initial = await build();
    expect(initial.success).toBe(true);
    await insertBronze(wh.connection, nextHour);

    // Act: the incremental build, then a full refresh of the same data.
    const incremental = await build();
    const afterIncremental = await snapshot(wh);
    const rerun = await build();
    const afterRerun = await snapshot(wh);
    const full = await build(true);
    const afterFull = await snapshot(wh);

    // Assess
    expect(incremental.success).toBe(true);
    expect(full.success).toBe(true);
    const silverRun = incremental.runResults.results.find(
      (r) => r.unique_id === 'model.spotify_mds.stg_spotify__events',
    );
    // The merge inserted only what the added hour brought: the lookback's rows already in Silver, and the
    // duplicates that lost to them, were left out.
    expect(silverRun?.adapter_response.rows_affected).toBeGreaterThan(0);
    expect(silverRun?.adapter_response.rows_affected).toBeLessThanOrEqual(
      new Set(nextHour.map((r) => r.event_id)).size,
    );
    const silverRows = afterIncremental.get('silver.stg_spotify__events') ?? [];
    expect(silverRows.find((r) => r.event_id === nextHour.at(-1)!.event_id)?.kafka_partition).toBe(0);
    // A re-run with nothing new in Bronze merges nothing and changes nothing.
    expect(rerun.success).toBe(true);
    expect(
      rerun.runResults.results.find((r) => r.unique_id === 'model.spotify_mds.stg_spotify__events')
        ?.adapter_response.rows_affected,
    ).toBe(0);
    for (const [table, key] of TABLES) {
      expect(diffRows(afterIncremental.get(table) ?? [], afterFull.get(table) ?? [], key), table).toEqual([]);
      expect(diffRows(afterRerun.get(table) ?? [], afterIncremental.get(table) ?? [], key), table).toEqual(
        [],
      );
    }
    // And both equal the independent TypeScript computation from all the events.
    const events = silver([...first, ...nextHour]);
    for (const [table, { compute, key }] of Object.entries(GOLD)) {
      expect(diffRows(afterIncremental.get(`gold.${table}`) ?? [], compute(events), key), table).toEqual([]);
    }
  }, 240_000);
});

describe('Silver built first on an empty Bronze', () => {
  let wh: TempWarehouse;
  beforeAll(async () => {
    wh = await tempWarehouse();
  });
  afterAll(async () => wh?.close());

  it('holds every event once Bronze is loaded (a new deployment whose first run precedes any event)', async () => {
    const build = () =>
      runDbt({ projectDir: DBT_PROJECT, connection: wh.connection, command: 'build', targetDir: wh.dir });
    // The first hourly run: nothing loaded yet, Silver is created empty.
    const empty = await build();
    expect(empty.success).toBe(true);
    expect(await readTable(wh.connection, 'silver.stg_spotify__events')).toEqual([]);

    const { rows } = bronzeRows({
      seed: 5,
      events: 2_000,
      start: new Date('2026-04-01T00:00:00Z'),
      end: new Date('2026-04-01T02:00:00Z'),
      users: 20,
      songs: 50,
      duplicateFraction: 0.05,
    });
    await insertBronze(wh.connection, rows);
    const next = await build();
    expect(next.success).toBe(true);
    const held = await readTable(wh.connection, 'silver.stg_spotify__events');
    const ids = new Set(rows.map((r) => r.event_id));
    expect(held.length).toBe(ids.size);
    expect(new Set(held.map((r) => r.event_id))).toEqual(ids);
  });
});
