/**
 * The listener definitions of docs/data-model.md ("Listeners") on hand-made events, each case built so the
 * previous definition gives another answer: the session gap from the previous play's end, a session id a late
 * event keeps, play streaks cut at sessions, day streaks on local days, local hours and weekdays, the Wrapped
 * period boundaries and the album completion threshold. The country time-zone map is checked against the
 * simulator's countries.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListeningEventV2 } from '../../lambdas/core/contract.ts';
import { HOME_COUNTRIES } from '../../lambdas/core/simulator/catalog.ts';
import { asBronzeRow, insertBronze, type BronzeRow } from './dataset.ts';
import {
  buildProject,
  DBT_PROJECT,
  readTable,
  tempWarehouse,
  unsuccessful,
  type TempWarehouse,
} from './helpers.ts';
import { COUNTRY_TIME_ZONES, wallClock } from './reference-listeners.ts';

const MIN = 60_000;
const T0 = Date.parse('2026-03-02T10:00:00Z'); // a Monday
const LOAD_1 = '2026-03-31T00:00:00Z';
const LOAD_2 = '2026-04-01T00:00:00Z';

let offset = 0;
function event(
  id: string,
  user: string,
  at: number,
  fields: Partial<ListeningEventV2> = {},
  loadedAt = LOAD_1,
): BronzeRow {
  const e: ListeningEventV2 = {
    event_id: id,
    user_id: user,
    song_id: `song_${id}`,
    artist_name: 'Artist A',
    song_name: `Song ${id}`,
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
  return asBronzeRow(e, { partition: 0, offset, loadedAt, file: 'bronze/listeners-test.ndjson.gz' });
}

/** Events of every case; each user is one case. */
function rows(): BronzeRow[] {
  return [
    // gap: a 25-minute play, then a play 50 min after its start (25 min after its end): one session.
    event('gap1', 'u_gap', T0, { duration_ms: 25 * MIN }),
    event('gap2', 'u_gap', T0 + 50 * MIN),
    // gap: a pause's duration_ms is its position in the track, not time listened: 40 min later is a new session.
    event('pause1', 'u_pause', T0, { event_type: 'pause', duration_ms: 25 * MIN }),
    event('pause2', 'u_pause', T0 + 40 * MIN),
    // stable id: a session of three plays (a late event is added in the second build).
    event('id1', 'u_id', T0, { duration_ms: 3 * MIN }),
    event('id2', 'u_id', T0 + 4 * MIN, { duration_ms: 3 * MIN }),
    event('id3', 'u_id', T0 + 8 * MIN, { duration_ms: 3 * MIN }),
    // streaks: two plays of A, a 40-minute gap, two more: no streak (each session has 2); then a session of 3.
    ...[0, 2, 44, 46].map((m, i) => event(`cut${i}`, 'u_cut', T0 + m * MIN, { duration_ms: MIN })),
    ...[200, 202, 204].map((m, i) => event(`run${i}`, 'u_cut', T0 + m * MIN, { duration_ms: MIN })),
    // day streaks in Tokyo (UTC+9): 10:00Z is 19:00 local on 03-02, 20:00Z is 05:00 local on 03-03. One UTC
    // day, two local days. A 10-second play on 03-04 local is not a stream and does not extend the streak.
    event('day1', 'u_day', T0, { country: 'JP' }),
    event('day2', 'u_day', T0 + 10 * 60 * MIN, { country: 'JP' }),
    event('day3', 'u_day', T0 + 34 * 60 * MIN, { country: 'JP', duration_ms: 10_000 }),
    // local clock in Kolkata (UTC+5:30): Monday 18:45Z is Tuesday 00:15 local.
    event('clock1', 'u_clock', Date.parse('2026-03-02T18:45:00Z'), { country: 'IN' }),
    // local time across a change of offset: Berlin's clocks go from 02:00 to 03:00 at 01:00Z on 2026-03-29.
    event('dst1', 'u_dst', Date.parse('2026-03-29T00:59:59.999Z'), { country: 'DE' }),
    event('dst2', 'u_dst', Date.parse('2026-03-29T01:00:00Z'), { country: 'DE' }),
    // country: most frequent known (2 x SE, 1 x DE, 1 unknown).
    event('home1', 'u_home', T0, { country: 'SE' }),
    event('home2', 'u_home', T0 + MIN, { country: 'DE' }),
    event('home3', 'u_home', T0 + 2 * MIN, { country: null }),
    event('home4', 'u_home', T0 + 3 * MIN, { country: 'SE' }),
    // periods (London, UTC+0 in winter): the anchor is 2026-03-30, the latest local date of any event.
    ...[0, 27, 28, 181, 182, 120].map((days) =>
      event(`p${days}`, 'u_period', Date.parse('2026-03-30T12:00:00Z') - days * 24 * 60 * MIN),
    ),
    // completion: album "Full" has three tracks in the catalog; u_album plays t1 at exactly 90 % (through),
    // t2 at 90 % less a millisecond (not), and t1 of length unknown here, judged by the catalog's length.
    event('al1', 'u_album', T0, { album_name: 'Full', song_id: 't1', duration_ms: 180_000 }),
    event('al2', 'u_album', T0 + 5 * MIN, { album_name: 'Full', song_id: 't2', duration_ms: 179_999 }),
    event('al3', 'u_other', T0, { album_name: 'Full', song_id: 't3', duration_ms: 200_000 }),
    event('al4', 'u_album2', T0, {
      album_name: 'Full',
      song_id: 't1',
      duration_ms: 185_000,
      track_length_ms: null,
      source: 'spotify_history',
    }),
  ];
}

describe('listener definitions on hand-made events', () => {
  let wh: TempWarehouse;
  const build = () => buildProject(wh);
  const query = (sql: string) => readTable(wh.connection, `(${sql})`);

  beforeAll(async () => {
    wh = await tempWarehouse();
    await insertBronze(wh.connection, rows());
    const result = await build();
    expect(unsuccessful(result)).toEqual([]);
  });
  afterAll(async () => wh?.close());

  const sessionsOf = (user: string) =>
    query(
      `select session_id, events, session_start, session_end from gold.listening_sessions
       where user_id = '${user}' order by session_start`,
    );

  it("starts a session 30 minutes after the previous play's end, not its start", async () => {
    expect((await sessionsOf('u_gap')).map((s) => s.events)).toEqual([2]);
    expect((await sessionsOf('u_gap'))[0]?.session_end).toBe(new Date(T0 + 51 * MIN).toISOString());
    // Only a play's duration_ms is time listened.
    expect((await sessionsOf('u_pause')).map((s) => s.events)).toEqual([1, 1]);
  });

  it('cuts play streaks at session boundaries', async () => {
    const streaks = await query(
      `select streak_length, streak_start from gold.artist_streaks where user_id = 'u_cut' order by streak_start`,
    );
    expect(streaks).toEqual([{ streak_length: 3, streak_start: new Date(T0 + 200 * MIN).toISOString() }]);
  });

  it("counts day streaks on the listener's local days, with streams only", async () => {
    const streaks = await query(
      `select artist_name, streak_start_date, streak_end_date, streak_days from gold.artist_day_streaks
       where user_id = 'u_day'`,
    );
    expect(streaks).toEqual([
      {
        artist_name: 'Artist A',
        streak_start_date: '2026-03-02',
        streak_end_date: '2026-03-03',
        streak_days: 2,
      },
    ]);
  });

  it("places events in the listener's local hour and ISO weekday, and the home country is the most frequent", async () => {
    const [clock] = await query(
      `select time_zone, local_date, local_hour, local_weekday from gold.listener_events where event_id = 'clock1'`,
    );
    expect(clock).toEqual({
      time_zone: 'Asia/Kolkata',
      local_date: '2026-03-03',
      local_hour: 0,
      local_weekday: 2,
    });
    expect(
      await query(
        `select event_id, strftime(local_timestamp, '%Y-%m-%d %H:%M:%S.%g') as local_time, local_hour
         from gold.listener_events where user_id = 'u_dst' order by event_id`,
      ),
    ).toEqual([
      { event_id: 'dst1', local_time: '2026-03-29 01:59:59.999', local_hour: 1 },
      { event_id: 'dst2', local_time: '2026-03-29 03:00:00.000', local_hour: 3 },
    ]);
    expect(await query(`select country, time_zone from gold.dim_listeners where user_id = 'u_home'`)).toEqual(
      [{ country: 'SE', time_zone: 'Europe/Stockholm' }],
    );
    expect(
      await query(
        `select local_weekday, local_hour, events from gold.listening_clock where local_weekday = 2 and local_hour = 0`,
      ),
    ).toEqual([{ local_weekday: 2, local_hour: 0, events: 1 }]);
  });

  it('bounds the Wrapped periods: 28 and 182 local days up to the latest local date, calendar years', async () => {
    const periods = await query(
      `select period, period_start_date, period_end_date, plays from gold.user_wrapped
       where user_id = 'u_period' order by period`,
    );
    expect(periods).toEqual([
      { period: 'all_time', period_start_date: '2025-09-29', period_end_date: '2026-03-30', plays: 6 },
      { period: 'last_4_weeks', period_start_date: '2026-03-03', period_end_date: '2026-03-30', plays: 2 },
      { period: 'last_6_months', period_start_date: '2025-09-30', period_end_date: '2026-03-30', plays: 5 },
      { period: 'year_2025', period_start_date: '2025-01-01', period_end_date: '2025-12-31', plays: 3 },
      { period: 'year_2026', period_start_date: '2026-01-01', period_end_date: '2026-12-31', plays: 3 },
    ]);
  });

  it("completes a track at 90 % of its length, judged by the catalog's length when the play has none", async () => {
    const completion = await query(
      `select user_id, album_tracks, tracks_played, tracks_completed, completion_rate from gold.album_completion
       where album_name = 'Full' order by user_id`,
    );
    expect(completion).toEqual([
      { user_id: 'u_album', album_tracks: 3, tracks_played: 2, tracks_completed: 1, completion_rate: 1 / 3 },
      { user_id: 'u_album2', album_tracks: 3, tracks_played: 1, tracks_completed: 1, completion_rate: 1 / 3 },
      { user_id: 'u_other', album_tracks: 3, tracks_played: 1, tracks_completed: 1, completion_rate: 1 / 3 },
    ]);
  });

  // Last: it adds events and rebuilds.
  it('keeps a session id when a late event lands inside the session or moves its start', async () => {
    const [before] = await sessionsOf('u_id');
    expect(before?.events).toBe(3);
    await insertBronze(wh.connection, [
      event('id_late_inside', 'u_id', T0 + 6 * MIN, {}, LOAD_2),
      event('id_late_before', 'u_id', T0 - 20 * MIN, { duration_ms: 2 * MIN }, LOAD_2),
    ]);
    const result = await build();
    expect(result.success).toBe(true);
    const after = await sessionsOf('u_id');
    expect(after).toEqual([
      {
        session_id: before?.session_id,
        events: 5,
        session_start: new Date(T0 - 20 * MIN).toISOString(),
        session_end: before?.session_end,
      },
    ]);
  });
});

describe('the country time-zone map', () => {
  const january = Date.parse('2026-01-15T12:00:00Z');
  const july = Date.parse('2026-07-15T12:00:00Z');
  const offsetMinutes = (ts: number, zone: string) => (wallClock(ts, zone) - ts) / MIN;

  it("gives every simulated country a zone whose standard offset is the simulator's first offset", () => {
    for (const c of HOME_COUNTRIES) {
      const zone = COUNTRY_TIME_ZONES[c.code];
      expect(zone, c.code).toBeDefined();
      const standard = Math.min(offsetMinutes(january, zone!), offsetMinutes(july, zone!));
      expect(standard, `${c.code} ${zone}`).toBe(c.offsets[0]);
    }
  });

  it('changes offsets on quarter hours of UTC only, 2008-2040 (listener_events reads one per quarter hour)', () => {
    const QUARTER = 15 * MIN;
    const DAY = 24 * 60 * MIN;
    const [start, end] = [Date.parse('2008-01-01T00:00:00Z'), Date.parse('2040-01-01T00:00:00Z')];
    let changes = 0;
    for (const zone of new Set(Object.values(COUNTRY_TIME_ZONES))) {
      const offset = (ts: number) => wallClock(ts, zone) - ts;
      for (let day = start; day < end; day += DAY) {
        const [before, after] = [offset(day), offset(day + DAY)];
        expect(Math.abs(before % QUARTER), `${zone} ${new Date(day).toISOString()}`).toBe(0);
        if (before === after) continue;
        // The change lies in the day: the first quarter hour with the new offset, and just before it the old one.
        let quarter = day + QUARTER;
        while (offset(quarter) !== after) quarter += QUARTER;
        expect(
          offset(quarter - 1),
          `${zone} changes inside the quarter before ${new Date(quarter).toISOString()}`,
        ).toBe(before);
        changes += 1;
      }
    }
    // Daylight saving in about half the zones, over 32 years.
    expect(changes).toBeGreaterThan(1_000);
  });

  it('is the same map in the dbt macro as in the reference', async () => {
    const macro = await readFile(path.join(DBT_PROJECT, 'macros/country_time_zones.sql'), 'utf8');
    const pairs = Object.fromEntries(
      [...macro.matchAll(/'([A-Z]{2})': '([A-Za-z_/]+)'/g)].map((m) => [m[1], m[2]]),
    );
    expect(pairs).toEqual(COUNTRY_TIME_ZONES);
  });
});
