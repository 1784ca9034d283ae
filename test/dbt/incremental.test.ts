import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDbt } from '../../localstack/dbt/index.ts';
import { bronzeRows, insertBronze, type BronzeRow } from './dataset.ts';
import {
  buildProject,
  DBT_PROJECT,
  diffRows,
  readTable,
  tempWarehouse,
  unsuccessful,
  type TempWarehouse,
} from './helpers.ts';
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

  const build = (fullRefresh = false) => buildProject(wh, fullRefresh);

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

/**
 * Gold's changed rows are the Silver rows merged after its last complete build (merged_at against the
 * watermark's merged_through), with no lookback: runs seconds apart recompute only what the later one merged,
 * and the tests with a `__changed__` where check only those rows (by key for uniqueness).
 */
describe('the exact cut: Silver merged_at and the tests of what a run changed', () => {
  let wh: TempWarehouse;
  let rows: BronzeRow[];
  const build = (options: { fullRefresh?: boolean; command?: 'build' | 'test' } = {}) =>
    runDbt({
      projectDir: DBT_PROJECT,
      connection: wh.connection,
      command: options.command ?? 'build',
      fullRefresh: options.fullRefresh ?? false,
      targetDir: wh.dir,
    });
  const scalar = async (sql: string): Promise<unknown> =>
    (await wh.connection.runAndReadAll(sql)).getRows()[0]?.[0];
  const mergedAt = async (eventId: string): Promise<string> =>
    String(await scalar(`select merged_at from silver.stg_spotify__events where event_id = '${eventId}'`));
  const rowsAffected = (result: Awaited<ReturnType<typeof build>>, model: string): unknown =>
    result.runResults.results.find((r) => r.unique_id === `model.spotify_mds.${model}`)?.adapter_response
      .rows_affected;
  const statusOf = (result: Awaited<ReturnType<typeof build>>, part: string): string | undefined =>
    result.runResults.results.find((r) => r.unique_id.includes(part))?.status;
  /** Makes the next run's tests see a Silver row as changed: merged after the watermark. */
  const markChanged = `(select max(merged_through) from gold.gold_watermark) + interval '1 second'`;

  beforeAll(async () => {
    wh = await tempWarehouse();
    ({ rows } = bronzeRows({
      seed: 31,
      events: 1_500,
      start: new Date('2026-04-01T00:00:00Z'),
      end: new Date('2026-04-01T06:00:00Z'),
      users: 15,
      songs: 60,
      duplicateFraction: 0.05,
    }));
    await insertBronze(wh.connection, rows);
    expect(unsuccessful(await build())).toEqual([]);
  }, 120_000);
  afterAll(async () => wh?.close());

  it('stamps merged rows with the run start; a re-run seconds later merges nothing and rebuilds no Gold key', async () => {
    // Prepare
    const some = rows[0]!.event_id;
    const stamped = await mergedAt(some);
    const mark = String(await scalar('select max(merged_through) from gold.gold_watermark'));
    // Act: the next run, seconds after the first (no lookback in Gold: nothing it merges, nothing it rebuilds).
    const again = await build();
    // Assess
    expect(unsuccessful(again)).toEqual([]);
    expect(mark).toBe(stamped);
    expect(await mergedAt(some)).toBe(stamped);
    expect(rowsAffected(again, 'stg_spotify__events')).toBe(0);
    for (const mart of ['track_days', 'plays_per_hour', 'listener_events', 'user_wrapped_top'])
      expect(rowsAffected(again, mart), mart).toBe(0);
  }, 120_000);

  it('a late event and a better copy are merged by the next run, with its merged_at; the rows kept keep theirs', async () => {
    // Prepare: a late event for the first hour, and a better copy (earlier Kafka position) of a held event.
    const kept = rows.find((r) => r.kafka_partition > 0 && r.event_id !== rows[0]!.event_id)!;
    const untouched = rows[0]!.event_id;
    const before = await mergedAt(untouched);
    const late: BronzeRow = {
      ...rows[1]!,
      event_id: 'late-event',
      loaded_at: rows[rows.length - 1]!.loaded_at,
    };
    const better: BronzeRow = {
      ...kept,
      kafka_partition: 0,
      kafka_offset: 0,
      loaded_at: rows[rows.length - 1]!.loaded_at,
    };
    await insertBronze(wh.connection, [late, better]);
    // Act
    const next = await build();
    // Assess: two rows merged, both stamped with this run's start, later than the rows of the first run.
    expect(unsuccessful(next)).toEqual([]);
    expect(rowsAffected(next, 'stg_spotify__events')).toBe(2);
    const stamp = await mergedAt('late-event');
    expect(await mergedAt(kept.event_id)).toBe(stamp);
    expect(stamp > before).toBe(true);
    expect(await mergedAt(untouched)).toBe(before);
    expect(String(await scalar('select max(merged_through) from gold.gold_watermark'))).toBe(stamp);
    expect(Number(rowsAffected(next, 'track_days'))).toBeGreaterThan(0);
  }, 120_000);

  it("a watermark of an earlier release (no merged_through) counts as none: everything is changed, it's no error", async () => {
    // Prepare: the watermark as the previous release built it.
    await wh.connection.run('alter table gold.gold_watermark drop column merged_through');
    const events = Number(await scalar('select count(*) from gold.listener_events'));
    // Act
    const next = await build();
    // Assess: every listener recomputed, and the new watermark has the column again.
    expect(unsuccessful(next)).toEqual([]);
    expect(rowsAffected(next, 'listener_events')).toBe(events);
    expect(await scalar('select count(merged_through) from gold.gold_watermark')).toBe(1n);
  }, 120_000);

  it('the unique test of Silver sees a new duplicate of an old event_id (a filter on the key, not the row)', async () => {
    // Prepare: a copy of an event of the first run, merged after the watermark.
    const old = rows[2]!.event_id;
    await wh.connection.run(
      `insert into silver.stg_spotify__events select * replace (${markChanged} as merged_at) from silver.stg_spotify__events where event_id = '${old}'`,
    );
    // Act
    const tested = await build({ command: 'test' });
    // Assess
    expect(statusOf(tested, 'test.spotify_mds.unique_stg_spotify__events_event_id')).toBe('fail');
    await wh.connection.run(
      `delete from silver.stg_spotify__events where event_id = '${old}' and merged_at = ${markChanged}`,
    );
  }, 120_000);

  it('an accepted_values test fails on a changed row, and leaves alone a row an earlier run checked', async () => {
    // Prepare: one unknown event_type on a row merged before the watermark, then on one merged after it.
    const [early, changed] = [rows[3]!.event_id, rows[4]!.event_id];
    const accepted = 'accepted_values_stg_spotify__e_';
    const testedEventTypes = async () =>
      (await build({ command: 'test' })).runResults.results
        .filter((r) => r.unique_id.includes(accepted) && String(r.compiled_code).includes("'play'"))
        .map((r) => r.status);
    await wh.connection.run(
      `update silver.stg_spotify__events set event_type = 'bogus' where event_id = '${early}'`,
    );
    const untouched = await testedEventTypes();
    await wh.connection.run(
      `update silver.stg_spotify__events set event_type = 'bogus', merged_at = ${markChanged} where event_id = '${changed}'`,
    );
    // Act
    const failing = await testedEventTypes();
    // Assess
    expect(untouched).toEqual(['pass']);
    expect(failing).toEqual(['fail']);
    // A full refresh rebuilds Silver from Bronze and tests every row: nothing is left failing.
    expect((await build({ fullRefresh: true })).runResults.results.some((r) => r.status === 'fail')).toBe(
      false,
    );
  }, 240_000);
});
