/**
 * Gold is never silently partial when Silver or Gold was changed by hand between hourly runs: the next run
 * either rebuilds what it needs (a dropped mart, a dropped gold_watermark) or fails with a test whose SQL says
 * what to refresh (a Silver day deleted, a Gold day deleted), and that refresh repairs everything.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDbt, type DbtRunResult } from '../../localstack/dbt/index.ts';
import { loadProject } from '../../localstack/dbt/project.ts';
import { bronzeRows, insertBronze, type BronzeRow } from './dataset.ts';
import {
  DBT_PROJECT,
  diffRows,
  readTable,
  tempWarehouse,
  unsuccessful,
  type TempWarehouse,
} from './helpers.ts';
import { GOLD, silver, type Row } from './reference.ts';

const TABLES: readonly { table: string; key: readonly string[] }[] = [
  { table: 'silver.stg_spotify__events', key: ['event_id'] },
  ...Object.entries(GOLD).map(([t, { key }]) => ({ table: `gold.${t}`, key })),
];

const FIRST_DAY = '2026-04-01';

/** Three days of events in three loads, one a day (by load time). */
function threeLoads(): BronzeRow[][] {
  const { rows } = bronzeRows({
    seed: 23,
    events: 900,
    start: new Date(`${FIRST_DAY}T00:00:00Z`),
    end: new Date('2026-04-04T00:00:00Z'),
    users: 8,
    songs: 40,
    duplicateFraction: 0.05,
    lateFraction: 0.1,
  });
  const day = (r: BronzeRow): number =>
    r.loaded_at < '2026-04-02T00:00:00Z' ? 0 : r.loaded_at < '2026-04-03T00:00:00Z' ? 1 : 2;
  return [0, 1, 2].map((d) => rows.filter((r) => day(r) === d));
}

async function snapshot(wh: TempWarehouse): Promise<Map<string, Row[]>> {
  const out = new Map<string, Row[]>();
  for (const { table } of TABLES) out.set(table, await readTable(wh.connection, table));
  return out;
}

/** The incremental models of marts/ other than gold_watermark: what a run may leave stale. */
async function incrementalMarts(): Promise<string[]> {
  const project = await loadProject({ projectDir: DBT_PROJECT });
  return [...project.models.values()]
    .filter(
      (m) =>
        m.fqn.includes('marts') && m.config.materialized === 'incremental' && m.name !== 'gold_watermark',
    )
    .map((m) => m.name);
}

/** The refresh commands the SQL file of a failing test names (its header says what to run). */
async function remedies(uniqueId: string): Promise<string[]> {
  const project = await loadProject({ projectDir: DBT_PROJECT });
  const test = project.tests.get(uniqueId);
  if (!test) return [];
  const sql = await readFile(path.join(DBT_PROJECT, test.file), 'utf8');
  return [...sql.matchAll(/`?((?:mds )?dbt build --full-refresh[^`\n(]*)/g)].map((m) =>
    (m[1] as string).trim(),
  );
}

// Each case builds five to seven times.
describe('Gold after Silver or Gold changed by hand', { timeout: 120_000 }, () => {
  let wh: TempWarehouse;
  let loads: BronzeRow[][];
  const build = (options: { fullRefresh?: boolean; select?: string[] } = {}): Promise<DbtRunResult> =>
    runDbt({
      projectDir: DBT_PROJECT,
      connection: wh.connection,
      command: 'build',
      targetDir: wh.dir,
      ...options,
    });

  /** Gold after the repair: equal to a full refresh of the same Bronze, and to the TypeScript reference. */
  async function expectWhole(): Promise<void> {
    const repaired = await snapshot(wh);
    const full = await build({ fullRefresh: true });
    expect(unsuccessful(full)).toEqual([]);
    const fromScratch = await snapshot(wh);
    const events = silver(loads.flat());
    for (const { table, key } of TABLES) {
      expect(diffRows(repaired.get(table) ?? [], fromScratch.get(table) ?? [], key), table).toEqual([]);
      const compute = GOLD[table.replace(/^gold\./, '')]?.compute;
      if (compute) expect(diffRows(repaired.get(table) ?? [], compute(events), key), table).toEqual([]);
    }
  }

  beforeEach(async () => {
    wh = await tempWarehouse();
    loads = threeLoads();
    // Two hourly runs: the first builds everything, the second incrementally.
    for (const load of loads.slice(0, 2)) {
      await insertBronze(wh.connection, load);
      expect(unsuccessful(await build())).toEqual([]);
    }
    // The third load has no event on the first day, so an incremental run has no reason to touch that day.
    expect(loads[2]!.some((r) => r.timestamp < '2026-04-02T00:00:00Z')).toBe(false);
  });
  afterEach(async () => wh?.close());

  it('a dropped Gold mart is built again whole by the next run', async () => {
    const marts = await incrementalMarts();
    expect(marts.length).toBeGreaterThan(0);
    for (const mart of new Set([...marts, 'plays_per_hour']))
      await wh.connection.run(`drop table gold.${mart}`);
    await insertBronze(wh.connection, loads[2]!);

    expect(unsuccessful(await build())).toEqual([]);
    await expectWhole();
  });

  it('a dropped gold_watermark makes the next run recompute every key from all of Silver', async () => {
    // The incremental marts emptied as well: only a run that recomputes every day and listener fills them.
    for (const mart of await incrementalMarts()) await wh.connection.run(`delete from gold.${mart}`);
    await wh.connection.run('drop table gold.gold_watermark');
    await insertBronze(wh.connection, loads[2]!);

    expect(unsuccessful(await build())).toEqual([]);
    await expectWhole();
  });

  it('a Silver day deleted by hand fails the run on Silver, leaves Gold as it was, and names the refresh', async () => {
    const before = await snapshot(wh);
    await wh.connection.run(`delete from silver.stg_spotify__events where event_date = date '${FIRST_DAY}'`);
    await insertBronze(wh.connection, loads[2]!);

    const run = await build();
    expect(run.success).toBe(false);
    const failed = run.runResults.results.filter((r) => r.status === 'fail' || r.status === 'error');
    expect(failed.map((r) => r.unique_id)).toEqual([
      'test.spotify_mds.assert_silver_keeps_every_bronze_event',
    ]);
    // Gold waits for Silver's tests: nothing in it was built from the partial Silver.
    const gold = run.runResults.results.filter((r) => r.relation_name?.includes('gold'));
    expect(gold.length).toBeGreaterThan(0);
    expect(gold.filter((r) => r.status !== 'skipped').map((r) => r.unique_id)).toEqual([]);
    const after = await snapshot(wh);
    for (const { table, key } of TABLES.filter((t) => t.table.startsWith('gold.')))
      expect(diffRows(after.get(table) ?? [], before.get(table) ?? [], key), table).toEqual([]);
    expect(await remedies(failed[0]!.unique_id)).toContain('mds dbt build --full-refresh');

    expect(unsuccessful(await build({ fullRefresh: true }))).toEqual([]);
    await expectWhole();
  });

  /** The next build fails on assert_silver_keeps_every_bronze_event alone, with one row: one event missing. */
  async function expectOnlySilverTestFails(): Promise<void> {
    const run = await build();
    expect(run.success).toBe(false);
    const failed = run.runResults.results.filter((r) => r.status === 'fail' || r.status === 'error');
    expect(failed.map((r) => [r.unique_id, r.failures])).toEqual([
      ['test.spotify_mds.assert_silver_keeps_every_bronze_event', 1],
    ]);
  }

  it('one old Silver row deleted by hand fails the Silver test', async () => {
    await wh.connection.run(
      `delete from silver.stg_spotify__events where event_id = (
        select min(event_id) from silver.stg_spotify__events where event_date = date '${FIRST_DAY}')`,
    );
    await insertBronze(wh.connection, loads[2]!);

    await expectOnlySilverTestFails();

    expect(unsuccessful(await build({ fullRefresh: true }))).toEqual([]);
    await expectWhole();
  });

  it('a Bronze event Silver never read (loaded before its lookback) fails the Silver test', async () => {
    // A load that committed long after its loaded_at: an incremental Silver reads from its newest loaded_at
    // less the lookback, so it never merges this event; the test must say Silver lacks it.
    const old = loads[0]![0]!;
    await insertBronze(wh.connection, [
      { ...old, event_id: 'loaded-before-the-lookback', kafka_offset: 1_000_000, loaded_at: old.loaded_at },
    ]);
    await insertBronze(wh.connection, loads[2]!);

    await expectOnlySilverTestFails();

    // The refresh the test names merges it.
    expect(unsuccessful(await build({ fullRefresh: true }))).toEqual([]);
    const merged = await wh.connection.runAndReadAll(
      `select count(*) from silver.stg_spotify__events where event_id = 'loaded-before-the-lookback'`,
    );
    expect(Number(merged.getRows()[0]?.[0])).toBe(1);
  });

  it('a Gold day deleted by hand fails the run on a Gold test that names the refresh of Gold', async () => {
    const marts = await incrementalMarts();
    const daily: string[] = [];
    for (const mart of marts) {
      const columns = await wh.connection.runAndReadAll(
        `select column_name from information_schema.columns where table_schema = 'gold' and table_name = '${mart}'`,
      );
      if (columns.getRows().some(([c]) => c === 'event_date')) daily.push(mart);
    }
    expect(daily).toContain('device_mix');
    for (const mart of daily)
      await wh.connection.run(`delete from gold.${mart} where event_date = date '${FIRST_DAY}'`);
    await insertBronze(wh.connection, loads[2]!);

    const run = await build();
    expect(run.success).toBe(false);
    const failed = unsuccessful(run);
    const reconcile = 'test.spotify_mds.assert_gold_days_and_listeners_reconcile_with_silver';
    expect(
      failed.some((l) => l.startsWith(`${reconcile}: fail`)),
      failed.join('\n'),
    ).toBe(true);
    const commands = await remedies(reconcile);
    expect(commands).toContain('mds dbt build --full-refresh --select tag:gold');

    // The refresh the test names repairs Gold, and leaves Silver to its incremental build.
    const refresh = await build({ fullRefresh: true, select: ['tag:gold'] });
    expect(unsuccessful(refresh)).toEqual([]);
    expect(
      refresh.runResults.results.some((r) => r.unique_id === 'model.spotify_mds.stg_spotify__events'),
    ).toBe(false);
    await expectWhole();
  });
});
