/**
 * The Wrapped marts built incrementally over hand-made loads, each one a case an incremental filter can miss: a
 * late event in an earlier year, a better copy that costs a top track its streams, a duplicate, the anchor moving
 * forward a day (a listener's last 4 weeks empties), a listener whose home country flips (an event moves to the
 * next year), a listener whose first known country arrives after rows without one (from UTC to its zone). After every load the marts equal the TypeScript reference; after the last, a full refresh.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListeningEventV2 } from '../../lambdas/core/contract.ts';
import { asBronzeRow, insertBronze, type BronzeRow } from './dataset.ts';
import {
  buildProject,
  diffRows,
  readTable,
  tempWarehouse,
  unsuccessful,
  type TempWarehouse,
} from './helpers.ts';
import { GOLD, silver, type Row } from './reference.ts';

const MARTS = ['wrapped_events', 'user_wrapped', 'user_wrapped_top', 'user_wrapped_clock'] as const;
const LOADS = [
  '2026-03-31T00:00:00Z',
  '2026-04-01T00:00:00Z',
  '2026-04-02T00:00:00Z',
  '2026-04-03T00:00:00Z',
  '2026-04-04T00:00:00Z',
];
const DAY = 86_400_000;

let offset = 0;
function event(
  id: string,
  user: string,
  at: string,
  load: number,
  fields: Partial<ListeningEventV2> = {},
  partition = 1,
): BronzeRow {
  const e: ListeningEventV2 = {
    event_id: id,
    user_id: user,
    song_id: 'song_1',
    artist_name: 'Artist A',
    song_name: 'Song 1',
    album_name: null,
    track_length_ms: 200_000,
    event_type: 'play',
    device_type: 'mobile',
    country: 'GB',
    timestamp: new Date(at).toISOString(),
    duration_ms: 60_000,
    source: 'simulator',
    schema_version: 2,
    ...fields,
  };
  offset += 1;
  return asBronzeRow(e, {
    partition,
    offset,
    loadedAt: LOADS[load] as string,
    file: `bronze/wrapped-${load}.ndjson.gz`,
  });
}

const song = (n: number, artist: string) => ({
  song_id: `song_${n}`,
  song_name: `Song ${n}`,
  artist_name: artist,
});

/** u_top: seven songs of three artists, streams 4, 3, 3, 2, 2, 1, 1, on days inside and outside the last 4 weeks. */
function firstLoad(): BronzeRow[] {
  const rows: BronzeRow[] = [];
  const plays: [number, string, number][] = [
    [1, 'Artist A', 4],
    [2, 'Artist A', 3],
    [3, 'Artist B', 3],
    [4, 'Artist B', 2],
    [5, 'Artist C', 2],
    [6, 'Artist C', 1],
    [7, 'Artist C', 1],
  ];
  for (const [n, artist, count] of plays) {
    for (let i = 0; i < count; i++) {
      const day = i % 2 === 0 ? '2026-03-29' : '2026-03-01';
      // Song 6's play is 2 minutes: more than song 4's once a better copy costs it a stream (see below).
      const duration_ms = n === 6 ? 120_000 : 60_000;
      rows.push(
        event(`top_${n}_${i}`, 'u_top', `${day}T1${n}:0${i}:00Z`, 0, { ...song(n, artist), duration_ms }),
      );
    }
  }
  rows.push(
    event('top_pause', 'u_top', '2026-03-29T09:00:00Z', 0, { ...song(8, 'Artist D'), event_type: 'pause' }),
  );
  // The anchor: the latest local date, 2026-03-30.
  rows.push(event('top_anchor', 'u_top', '2026-03-30T10:00:00Z', 0, song(2, 'Artist A')));
  // u_quiet plays on the first day of the last 4 weeks (2026-03-03), and only then.
  rows.push(event('quiet_1', 'u_quiet', '2026-03-03T12:00:00Z', 0, song(1, 'Artist A')));
  // u_zone: home GB (2 events to JP's 1); 2025-12-31 20:00 UTC is 2025-12-31 in London, 2026-01-01 in Tokyo.
  rows.push(event('zone_1', 'u_zone', '2025-12-31T20:00:00Z', 0, song(3, 'Artist B')));
  rows.push(event('zone_2', 'u_zone', '2026-03-10T20:00:00Z', 0, song(4, 'Artist B')));
  rows.push(event('zone_3', 'u_zone', '2026-03-11T08:00:00Z', 0, { ...song(5, 'Artist C'), country: 'JP' }));
  // u_unknown: no country known yet, so UTC; 2025-12-31 20:00 UTC is 2026-01-01 once their home is Japan.
  rows.push(
    event('unknown_1', 'u_unknown', '2025-12-31T20:00:00Z', 0, { ...song(3, 'Artist B'), country: null }),
  );
  return rows;
}

describe('incremental Wrapped marts', () => {
  let wh: TempWarehouse;
  const loaded: BronzeRow[] = [];
  const build = (fullRefresh = false) => buildProject(wh, fullRefresh);
  const snapshot = async (): Promise<Map<string, Row[]>> =>
    new Map(
      await Promise.all(MARTS.map(async (t) => [t, await readTable(wh.connection, `gold.${t}`)] as const)),
    );
  const load = async (rows: BronzeRow[]): Promise<Map<string, Row[]>> => {
    // A row of u_tick loaded 4 hours after the others: the next run's watermark (newest loaded_at less the
    // 3-hour lookback) then lies past this load, so the next load's rows are the only changed ones.
    const at = Date.parse(rows[0]!.loaded_at) + 4 * 3_600_000;
    const tick = event(`tick_${loaded.length}`, 'u_tick', '2026-03-05T12:00:00Z', 0);
    rows = [...rows, { ...tick, loaded_at: new Date(at).toISOString() }];
    loaded.push(...rows);
    await insertBronze(wh.connection, rows);
    const result = await build();
    expect(unsuccessful(result)).toEqual([]);
    return snapshot();
  };
  /** The differences of each mart from the reference of every row loaded so far. */
  const offReference = (marts: Map<string, Row[]>): Record<string, string[]> => {
    const events = silver(loaded);
    return Object.fromEntries(
      MARTS.map((t) => [t, diffRows(marts.get(t) ?? [], GOLD[t]!.compute(events), GOLD[t]!.key)]),
    );
  };
  const none = Object.fromEntries(MARTS.map((t) => [t, []]));
  const rowsOf = (marts: Map<string, Row[]>, table: string, user: string) =>
    (marts.get(table) ?? []).filter((r) => r.user_id === user);

  beforeAll(async () => {
    wh = await tempWarehouse();
    expect(offReference(await load(firstLoad()))).toEqual(none);
  });
  afterAll(async () => wh?.close());

  it('takes a late event of an earlier year, a duplicate, and a better copy that is no stream', async () => {
    const beaten = loaded.find((r) => r.event_id === 'top_4_0')!;
    const marts = await load([
      event('top_late', 'u_top', '2025-06-15T12:00:00Z', 1, song(9, 'Artist D')),
      { ...loaded.find((r) => r.event_id === 'top_2_0')!, kafka_offset: 10_000, loaded_at: LOADS[1]! },
      { ...beaten, kafka_partition: 0, kafka_offset: 0, duration_ms: 5_000, loaded_at: LOADS[1]! },
    ]);
    expect(offReference(marts)).toEqual(none);
    // The case happened: u_top has a 2025 now, and song 4, 5th of all time, fell behind song 6, which no
    // changed row is of.
    expect(rowsOf(marts, 'user_wrapped', 'u_top').map((r) => r.period)).toContain('year_2025');
    const top = rowsOf(marts, 'user_wrapped_top', 'u_top').filter((r) => r.period === 'all_time');
    expect(top.filter((r) => r.kind === 'track').map((r) => r.song_id)).toEqual(
      expect.arrayContaining(['song_6']),
    );
    expect(top.map((r) => r.song_id)).not.toContain('song_4');
  });

  it('rebuilds the rolling periods when the anchor moves a day', async () => {
    const marts = await load([event('other_1', 'u_other', '2026-03-31T12:00:00Z', 2)]);
    expect(offReference(marts)).toEqual(none);
    const periods = rowsOf(marts, 'user_wrapped', 'u_quiet').map((r) => r.period);
    expect(periods).toContain('last_6_months');
    expect(periods).not.toContain('last_4_weeks');
    const end = rowsOf(marts, 'user_wrapped', 'u_top').find(
      (r) => r.period === 'last_4_weeks',
    )?.period_end_date;
    expect(end).toBe(new Date(Date.parse('2026-03-30') + DAY).toISOString().slice(0, 10));
  });

  it("moves a listener's local dates when their home country flips", async () => {
    const marts = await load([
      event('zone_4', 'u_zone', '2026-03-12T01:00:00Z', 3, { ...song(5, 'Artist C'), country: 'JP' }),
      event('zone_5', 'u_zone', '2026-03-12T02:00:00Z', 3, { ...song(1, 'Artist A'), country: 'JP' }),
    ]);
    expect(offReference(marts)).toEqual(none);
    // The case happened: in Tokyo the first event is in 2026, so u_zone has no 2025 any more.
    expect(rowsOf(marts, 'user_wrapped', 'u_zone').map((r) => r.period)).not.toContain('year_2025');

    // And a full refresh of the same data builds the same marts.
    expect(unsuccessful(await build(true))).toEqual([]);
    const full = await snapshot();
    for (const t of MARTS)
      expect(diffRows(marts.get(t) ?? [], full.get(t) ?? [], GOLD[t]!.key), t).toEqual([]);
  });

  it('moves the local dates of a listener whose first known country arrives (their rows before had none)', async () => {
    const marts = await load([
      event('unknown_2', 'u_unknown', '2026-03-12T03:00:00Z', 4, { ...song(5, 'Artist C'), country: 'JP' }),
    ]);
    expect(offReference(marts)).toEqual(none);
    // The case happened: from UTC to Tokyo, the first event moved from 2025 to 2026.
    expect(rowsOf(marts, 'user_wrapped', 'u_unknown').map((r) => r.period)).not.toContain('year_2025');

    expect(unsuccessful(await build(true))).toEqual([]);
    const full = await snapshot();
    for (const t of MARTS)
      expect(diffRows(marts.get(t) ?? [], full.get(t) ?? [], GOLD[t]!.key), t).toEqual([]);
  });
});
