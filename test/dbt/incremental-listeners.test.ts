/**
 * Incremental listener marts on hand-made events loaded in several hourly loads: a late event that bridges two
 * sessions, a late event before a session's start, a late event days back, a better copy of a session's
 * first-loaded event, a day that continues a day streak, a late play that splits a listener's only play
 * streak, a late play that ends a listener's third play streak (two stay before it), and a listener whose home country (so time zone, every local date, their first day and their day
 * streak) flips. After every incremental build each listener mart equals the TypeScript reference of the events
 * loaded so far, and at the end a full refresh of the same Silver.
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
import { GOLD, silver } from './reference.ts';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const T0 = Date.parse('2026-03-02T10:00:00Z');
// A day apart, past each other's Silver lookback. A build redoes the Silver rows loaded since the load the
// previous complete build ended with (macro gold_watermark), that load included: a one-event load of another
// listener before each load of cases leaves each case load to one incremental build.
const LOADS = [
  '2026-03-10T00:00:00Z',
  '2026-03-11T00:00:00Z',
  '2026-03-12T00:00:00Z',
  '2026-03-13T00:00:00Z',
  '2026-03-14T00:00:00Z',
] as const;

const LISTENER_MARTS = [
  'dim_listeners',
  'listener_events',
  'listening_sessions',
  'artist_streaks',
  'artist_day_streaks',
  'listener_days',
  'listening_clock',
  'track_catalog',
  'album_completion',
] as const;

let offset = 0;
function event(
  id: string,
  user: string,
  at: number,
  load: number,
  fields: Partial<ListeningEventV2> = {},
  partition = 1,
): BronzeRow {
  const e: ListeningEventV2 = {
    event_id: id,
    user_id: user,
    song_id: `song_${id}`,
    artist_name: 'Artist A',
    song_name: `Song ${id}`,
    album_name: 'Album A',
    track_length_ms: 200_000,
    event_type: 'play',
    device_type: 'mobile',
    country: 'GB',
    timestamp: new Date(at).toISOString(),
    duration_ms: 3 * MIN,
    source: 'simulator',
    schema_version: 2,
    ...fields,
  };
  offset += 1;
  return asBronzeRow(e, {
    partition,
    offset,
    loadedAt: LOADS[load] as string,
    file: 'bronze/incremental-listeners-test.ndjson.gz',
  });
}

/** Each listener is one case; loads 0, 2 and 4 bring the cases, loads 1 and 3 the other listener. */
function loads(): BronzeRow[][] {
  const at = (m: number) => T0 + m * MIN;
  const first = [
    // bridge: sessions at 0-8 and 60-68 min (3-minute plays), and one the next day.
    ...[0, 5].map((m, i) => event(`br_a${i}`, 'u_bridge', at(m), 0)),
    ...[60, 65].map((m, i) => event(`br_b${i}`, 'u_bridge', at(m), 0)),
    ...[0, 4, 8].map((m, i) => event(`br_c${i}`, 'u_bridge', at(m) + DAY, 0)),
    // before: a session at 0, another at 100-110 min.
    event('be_a0', 'u_before', at(0), 0),
    ...[100, 105, 110].map((m, i) => event(`be_b${i}`, 'u_before', at(m), 0)),
    // copy: a session of three plays whose first-loaded event gets a better copy later.
    ...[0, 4, 8].map((m, i) => event(`co${i}`, 'u_copy', at(m), 0)),
    // flip: home GB now (Europe/London), local 23:30 on day 1 and 00:30 on day 2 ...
    event('fl0', 'u_flip', Date.parse('2026-03-02T23:30:00Z'), 0),
    event('fl1', 'u_flip', Date.parse('2026-03-03T00:30:00Z'), 0, { country: 'GB' }),
    // days: a streamer of Artist D on four days.
    ...[0, 1, 2, 3].map((d) => event(`dd${d}`, 'u_days', at(0) + d * DAY, 0, { artist_name: 'Artist D' })),
    // extend: a day streak of Artist E on three days, which a later day continues.
    ...[0, 1, 2].map((d) => event(`ex${d}`, 'u_extend', at(0) + d * DAY, 0, { artist_name: 'Artist E' })),
    // split: one play streak of Artist A (three plays in a row), their only one.
    ...[0, 4, 8].map((m, i) => event(`sp${i}`, 'u_split', at(m), 0)),
    // two: three sessions of three plays of Artist A, a day apart: three play streaks.
    ...[0, 1, 2].flatMap((d) => [0, 4, 8].map((m, i) => event(`tw${d}_${i}`, 'u_two', at(m) + d * DAY, 0))),
    // a listener never touched again (but their album gains tracks from the others' plays).
    ...[0, 3, 6].map((m, i) => event(`st${i}`, 'u_still', at(m), 0)),
    event('st_s', 'u_still', at(9), 0, { album_name: 'Album S', song_id: 'song_s' }),
    event('st_t', 'u_still', at(12), 0, {
      album_name: 'Album T',
      song_id: 'song_t',
      track_length_ms: 250_000,
    }),
  ];
  const tick = (load: number) => [event(`tick${load}`, 'u_tick', at(load * DAY), load)];
  const second = [
    // bridge: a late play at 33-36 min joins both sessions into one; the next day's session is untouched.
    event('br_late', 'u_bridge', at(33), 2),
    // before: a late play at 75 min (25 min before the session's start) joins it at its start.
    event('be_late', 'u_before', at(75), 2),
    // copy: a better copy (an earlier Kafka position) of co0, loaded now: co1 becomes the first-loaded event.
    { ...event('co0', 'u_copy', at(0), 2), kafka_partition: 0, kafka_offset: 0 },
    // flip: three events from Japan make Asia/Tokyo the listener's zone: every local date and hour moves.
    ...[0, 1, 2].map((i) =>
      event(`fl_jp${i}`, 'u_flip', Date.parse('2026-03-05T12:00:00Z') + i * MIN, 2, { country: 'JP' }),
    ),
    // split: a late play of Artist B between the streak's second and third plays leaves u_split no streak
    // at all (nothing of theirs for the new rows to carry).
    event('sp_late', 'u_split', at(6), 2, { artist_name: 'Artist B' }),
    // two: a late play of Artist B inside the last session ends its streak; the listener is recomputed from
    // that session's start, and of the two stored streaks before it the later one is sent again (the
    // strategy deletes from the earliest row sent on: the earlier one would take the later one with it).
    event('tw_late', 'u_two', at(6) + 2 * DAY, 2, { artist_name: 'Artist B' }),
    // extend: a stream on the next day; the listener is recomputed from their previous session's local day,
    // so the streak found from the day before it on continues the stored one from its first day.
    event('ex3', 'u_extend', at(0) + 3 * DAY, 2, { artist_name: 'Artist E' }),
    // days: a late stream of Artist D two days before the first, and a new day.
    event('dd_late', 'u_days', at(0) - 2 * DAY, 2, { artist_name: 'Artist D' }),
    event('dd4', 'u_days', at(0) + 4 * DAY, 2, { artist_name: 'Artist D' }),
  ];
  const third = [
    // bridge: a play that links the merged session of day 1 to nothing (2 hours later) and one that
    // bridges the day-2 session to a new late one just before it.
    event('br_d0', 'u_bridge', at(200), 4),
    event('br_d1', 'u_bridge', at(-20) + DAY, 4),
    // days: one more late stream, on the missing day between dd_late and dd0: a five-day streak.
    event('dd_gap', 'u_days', at(0) - DAY, 4, { artist_name: 'Artist D' }),
    // flip back: GB is the most frequent again (3 x GB over 3 x JP; ties go to the alphabetically first).
    event('fl2', 'u_flip', Date.parse('2026-03-06T08:00:00Z'), 4),
    // album: another listener plays u_still's song_s with a longer known length (no new track on Album S):
    // the catalog's length doubles, and u_still's 3-minute play (90 % of 200 s, through) is no longer through.
    event('al_len', 'u_tick', at(300), 4, {
      album_name: 'Album S',
      song_id: 'song_s',
      track_length_ms: 400_000,
    }),
    // catalog: a later play of song_t whose source knows no length, under another name: the track keeps its
    // first name (the least) and its length, from the rows loaded before.
    event('al_t', 'u_tick', at(310), 4, {
      album_name: 'Album T',
      song_id: 'song_t',
      song_name: 'Song zz',
      track_length_ms: null,
    }),
  ];
  return [first, tick(1), second, tick(3), third];
}

type Tables = Map<string, Awaited<ReturnType<typeof readTable>>>;

describe('incremental listener marts', () => {
  let wh: TempWarehouse;
  const build = (fullRefresh = false) => buildProject(wh, fullRefresh);
  const snapshot = async (): Promise<Tables> => {
    const out: Tables = new Map();
    for (const t of LISTENER_MARTS) out.set(t, await readTable(wh.connection, `gold.${t}`));
    return out;
  };

  beforeAll(async () => {
    wh = await tempWarehouse();
  });
  afterAll(async () => wh?.close());

  it('after each load, built incrementally, equals the reference of all events so far and then a full refresh', async () => {
    const batches = loads();
    const loaded: BronzeRow[] = [];
    let last: Tables = new Map();
    for (const [i, batch] of batches.entries()) {
      // Act: load an hour, build (the first build is a full one: nothing is built yet).
      await insertBronze(wh.connection, batch);
      loaded.push(...batch);
      const result = await build();
      // Assess
      expect(unsuccessful(result), `build after load ${i}`).toEqual([]);
      last = await snapshot();
      if (i > 1) {
        // Incremental: listener_events rewrote only the changed listeners' rows (u_still's 5 stay), the
        // catalog and album completion only the rows the load touches.
        const rewritten = (t: string) =>
          result.runResults.results.find((r) => r.unique_id === `model.spotify_mds.${t}`)?.adapter_response
            .rows_affected;
        expect(rewritten('listener_events')).toBeLessThanOrEqual(silver(loaded).length - 5);
        for (const t of ['track_catalog', 'album_completion'])
          expect(rewritten(t), t).toBeLessThan(last.get(t)?.length ?? 0);
      }
      const events = silver(loaded);
      for (const t of LISTENER_MARTS) {
        const { compute, key } = GOLD[t]!;
        expect(diffRows(last.get(t) ?? [], compute(events), key), `${t} after load ${i}`).toEqual([]);
      }
    }
    const full = await build(true);
    expect(unsuccessful(full)).toEqual([]);
    const afterFull = await snapshot();
    for (const t of LISTENER_MARTS) {
      expect(diffRows(last.get(t) ?? [], afterFull.get(t) ?? [], GOLD[t]!.key), t).toEqual([]);
    }
  }, 300_000);

  it('the cases change what the incremental build has to redo', async () => {
    // The bridge merged two sessions, the copy moved a session id, the flip moved local dates: sessions
    // and local dates a build that recomputed only the changed events would get wrong.
    const sessions = await readTable(
      wh.connection,
      `(select user_id, session_id, events from gold.listening_sessions where user_id in ('u_bridge', 'u_copy') order by user_id, session_start)`,
    );
    expect(sessions).toEqual([
      { user_id: 'u_bridge', session_id: 'u_bridge-br_a0', events: 5 },
      { user_id: 'u_bridge', session_id: 'u_bridge-br_d0', events: 1 },
      { user_id: 'u_bridge', session_id: 'u_bridge-br_c0', events: 4 },
      { user_id: 'u_copy', session_id: 'u_copy-co1', events: 3 },
    ]);
    // The extended streak kept its first day.
    const extended = await readTable(
      wh.connection,
      `(select streak_start_date, streak_days from gold.artist_day_streaks where user_id = 'u_extend')`,
    );
    expect(extended).toEqual([{ streak_start_date: '2026-03-02', streak_days: 4 }]);
    // The split left u_split no play streak: the stored one is gone although no new row names it.
    const split = await readTable(
      wh.connection,
      `(select streak_start from gold.artist_streaks where user_id = 'u_split')`,
    );
    expect(split).toEqual([]);
    // u_two keeps the streaks of its first two sessions, and only those.
    const two = await readTable(
      wh.connection,
      `(select strftime(streak_start, '%d') as day, streak_length from gold.artist_streaks where user_id = 'u_two' order by streak_start)`,
    );
    expect(two).toEqual([
      { day: '02', streak_length: 3 },
      { day: '03', streak_length: 3 },
    ]);
    const zone = await readTable(
      wh.connection,
      `(select time_zone from gold.dim_listeners where user_id = 'u_flip')`,
    );
    expect(zone).toEqual([{ time_zone: 'Europe/London' }]);
  });
});
