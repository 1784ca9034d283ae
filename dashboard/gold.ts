/**
 * The dashboard's reads of Gold: parameterised SQL only, portable between DuckDB and Snowflake
 * (CAST, COUNT, SUM, POSITION; date bounds computed here rather than with dialect date functions).
 * Every function takes the warehouse as an argument and returns plain rows with numbers as numbers.
 */
import { MAX_ID_LENGTH } from '../lambdas/core/contract.ts';
import { MdsError } from '../lambdas/core/errors.ts';
import type { GoldWarehouse } from './warehouse.ts';

/** The Gold tables the page reads; all of them exist once dbt has built the marts. */
export const GOLD_TABLES = [
  'plays_per_hour',
  'track_days',
  'artist_days',
  'song_skip_rates',
  'artist_skip_rates',
  'device_mix',
  'country_mix',
  'listening_sessions',
  'artist_streaks',
  'hourly_listening_preferences',
  'song_popularity_distribution',
  'user_wrapped',
  'user_wrapped_top',
  'user_wrapped_clock',
  'user_top_artists',
  'user_top_tracks',
] as const;

/** How many rows the ranked charts show. */
export const TOP_N = 10;
/** Skip rates of songs or artists with fewer plays than this say little; they are left out of the charts. */
export const MIN_PLAYS_FOR_SKIP_RATE = 5;

export type Row = Record<string, unknown>;

/** A request the API refuses (HTTP 400). */
export class InputError extends MdsError {}

/** A request for something Gold does not hold (HTTP 404). */
export class NotFoundError extends MdsError {}

export interface DateRange {
  /** Inclusive first day, 'YYYY-MM-DD' (UTC). */
  readonly from: string;
  /** Inclusive last day, 'YYYY-MM-DD' (UTC). */
  readonly to: string;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

function parseDay(value: string, name: string): Date {
  const d = new Date(`${value}T00:00:00Z`);
  if (!DATE_RE.test(value) || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) {
    throw new InputError(`${name} must be a calendar date as YYYY-MM-DD (UTC), got ${JSON.stringify(value)}`);
  }
  return d;
}

/** Validates a from/to pair from the query string; both or neither. */
export function parseDateRange(from: string | null, to: string | null): DateRange | undefined {
  if (!from && !to) return undefined;
  if (!from || !to) throw new InputError('Give both "from" and "to" dates, or neither');
  const a = parseDay(from, '"from"');
  const b = parseDay(to, '"to"');
  if (a > b) throw new InputError(`"from" (${from}) is after "to" (${to})`);
  return { from, to };
}

/** Validates a user id the way the event contract does (1..64 characters, no control characters). */
export function parseUserId(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (value.length === 0 || value.length > MAX_ID_LENGTH || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new InputError(
      `A user id has 1 to ${MAX_ID_LENGTH} printable characters, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function dayAfter(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/**
 * Runs the queries one after the other: an embedded DuckDB connection runs one statement at a time, and a
 * handful of small Gold reads gains nothing from concurrency.
 */
async function inSequence<const T extends readonly (() => Promise<Row[]>)[]>(
  queries: T,
): Promise<{ -readonly [K in keyof T]: Row[] }> {
  const results: Row[][] = [];
  for (const q of queries) results.push(await q());
  return results as { -readonly [K in keyof T]: Row[] };
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

export interface GoldStatus {
  /** True when Gold has no plays yet (first start) or its tables are not built. */
  readonly empty: boolean;
  readonly missingTables: readonly string[];
  /** First and last day with hourly plays (UTC), when there are any. */
  readonly range: DateRange | null;
  readonly totalPlays: number;
}

export async function goldStatus(wh: GoldWarehouse): Promise<GoldStatus> {
  const tables = await wh.query<Row>(
    `SELECT LOWER(table_name) AS table_name FROM information_schema.tables WHERE LOWER(table_schema) = 'gold'`,
  );
  const present = new Set(tables.map((t) => str(t.table_name)));
  const missingTables = GOLD_TABLES.filter((t) => !present.has(t));
  if (missingTables.length > 0) return { empty: true, missingTables, range: null, totalPlays: 0 };
  const [row] = await wh.query<Row>(
    `SELECT MIN(hour_start) AS first_hour, MAX(hour_start) AS last_hour, CAST(SUM(plays) AS BIGINT) AS plays
     FROM gold.plays_per_hour`,
  );
  const totalPlays = num(row?.plays);
  if (!row?.first_hour || totalPlays === 0) return { empty: true, missingTables, range: null, totalPlays };
  return {
    empty: false,
    missingTables,
    range: { from: str(row.first_hour).slice(0, 10), to: str(row.last_hour).slice(0, 10) },
    totalPlays,
  };
}

/** What a range's top list counts: sums over its days. */
export interface RankedCounts {
  readonly streams: number;
  readonly plays: number;
  readonly minutes_listened: number;
  /** Each day's distinct listeners, summed over the range's days. */
  readonly listener_days: number;
}

export interface Overview {
  readonly range: DateRange;
  readonly totals: {
    readonly plays: number;
    readonly skips: number;
    readonly events: number;
    readonly minutesListened: number;
    readonly sessions: number;
    readonly activeListeners: number;
  };
  readonly playsPerHour: readonly {
    hour_start: string;
    events: number;
    plays: number;
    skips: number;
    listeners: number;
    minutes_listened: number;
  }[];
  /**
   * Where the events of these dates came from: Silver's events per source (simulator, spotify_api,
   * spotify_history), most first; empty when Silver has no source column yet (built before contract v2).
   */
  readonly sources: readonly { source: string; events: number }[];
  /** The range's ten most streamed songs and artists (track_days, artist_days): see topTracks below. */
  readonly topTracks: readonly ({ song_id: string; song_name: string; artist_name: string } & RankedCounts)[];
  readonly topArtists: readonly ({ artist_name: string } & RankedCounts)[];
  readonly deviceMix: readonly {
    device_type: string;
    events: number;
    plays: number;
    share_of_events: number;
  }[];
  readonly countryMix: readonly { country: string; events: number; plays: number; share_of_events: number }[];
  readonly sessionStats: {
    readonly sessions: number;
    readonly users: number;
    readonly avgMinutes: number;
    readonly avgEvents: number;
    readonly maxMinutes: number;
  };
  readonly streaks: readonly {
    user_id: string;
    artist_name: string;
    streak_start: string;
    streak_end: string;
    streak_length: number;
  }[];
  /** The next three are all-time marts (Gold has no date on them). */
  readonly songSkipRates: readonly {
    song_id: string;
    song_name: string;
    artist_name: string;
    plays: number;
    skips: number;
    skip_rate: number | null;
  }[];
  readonly artistSkipRates: readonly {
    artist_name: string;
    plays: number;
    skips: number;
    skip_rate: number | null;
  }[];
  readonly hourlyPreferences: readonly {
    hour_of_day: number;
    plays: number;
    skips: number;
    listeners: number;
    skip_rate: number | null;
    minutes_listened: number;
  }[];
  readonly popularity: readonly {
    bucket: string;
    bucket_order: number;
    songs: number;
    plays: number;
    share_of_plays: number;
  }[];
}

/** A date range as the overview's queries bound it: timestamps for hourly marts, days for daily ones. */
interface Bounds {
  /** First instant of the range and first instant after it, 'YYYY-MM-DD 00:00:00'. */
  readonly startTs: string;
  readonly endTs: string;
  /** First and last day, inclusive. */
  readonly days: readonly [string, string];
}

function bounds(range: DateRange): Bounds {
  return {
    startTs: `${range.from} 00:00:00`,
    endTs: `${dayAfter(range.to)} 00:00:00`,
    days: [range.from, range.to],
  };
}

async function playsPerHour(wh: GoldWarehouse, b: Bounds): Promise<Overview['playsPerHour']> {
  const rows = await wh.query<Row>(
    `SELECT hour_start, events, plays, skips, listeners, minutes_listened FROM gold.plays_per_hour
     WHERE hour_start >= CAST($1 AS TIMESTAMP) AND hour_start < CAST($2 AS TIMESTAMP) ORDER BY hour_start`,
    [b.startTs, b.endTs],
  );
  return rows.map((r) => ({
    hour_start: str(r.hour_start),
    events: num(r.events),
    plays: num(r.plays),
    skips: num(r.skips),
    listeners: num(r.listeners),
    minutes_listened: num(r.minutes_listened),
  }));
}

async function sources(wh: GoldWarehouse, b: Bounds): Promise<Overview['sources']> {
  const [column] = await wh.query<Row>(
    `SELECT COUNT(*) AS n FROM information_schema.columns
     WHERE LOWER(table_schema) = 'silver' AND LOWER(table_name) = 'stg_spotify__events'
       AND LOWER(column_name) = 'source'`,
  );
  if (num(column?.n) === 0) return [];
  const rows = await wh.query<Row>(
    `SELECT source, COUNT(*) AS events FROM silver.stg_spotify__events
     WHERE event_timestamp >= CAST($1 AS TIMESTAMP) AND event_timestamp < CAST($2 AS TIMESTAMP)
     GROUP BY source ORDER BY events DESC, source`,
    [b.startTs, b.endTs],
  );
  return rows.map((r) => ({ source: str(r.source), events: num(r.events) }));
}

/**
 * The range's top tracks from track_days (one row per day and song, not cut to a top 100): ranked by streams,
 * then minutes listened, then listener-days (each day's distinct listeners, summed: distinct listeners of a
 * range are not a sum of days), then song_id. On a one-day range this is top_tracks_daily's order.
 */
async function topTracks(wh: GoldWarehouse, b: Bounds): Promise<Overview['topTracks']> {
  const rows = await wh.query<Row>(
    `SELECT song_id, MIN(song_name) AS song_name, MIN(artist_name) AS artist_name,
            CAST(SUM(streams) AS BIGINT) AS streams, CAST(SUM(plays) AS BIGINT) AS plays,
            SUM(minutes_listened) AS minutes_listened, CAST(SUM(listeners) AS BIGINT) AS listener_days
     FROM gold.track_days WHERE event_date >= CAST($1 AS DATE) AND event_date <= CAST($2 AS DATE)
     GROUP BY song_id HAVING SUM(streams) > 0
     ORDER BY streams DESC, minutes_listened DESC, listener_days DESC, song_id LIMIT ${TOP_N}`,
    [...b.days],
  );
  return rows.map((r) => ({
    song_id: str(r.song_id),
    song_name: str(r.song_name),
    artist_name: str(r.artist_name),
    ...rankedCounts(r),
  }));
}

/** The range's top artists from artist_days, ranked as topTracks ranks songs (then artist_name). */
async function topArtists(wh: GoldWarehouse, b: Bounds): Promise<Overview['topArtists']> {
  const rows = await wh.query<Row>(
    `SELECT artist_name, CAST(SUM(streams) AS BIGINT) AS streams, CAST(SUM(plays) AS BIGINT) AS plays,
            SUM(minutes_listened) AS minutes_listened, CAST(SUM(listeners) AS BIGINT) AS listener_days
     FROM gold.artist_days WHERE event_date >= CAST($1 AS DATE) AND event_date <= CAST($2 AS DATE)
     GROUP BY artist_name HAVING SUM(streams) > 0
     ORDER BY streams DESC, minutes_listened DESC, listener_days DESC, artist_name LIMIT ${TOP_N}`,
    [...b.days],
  );
  return rows.map((r) => ({ artist_name: str(r.artist_name), ...rankedCounts(r) }));
}

function rankedCounts(r: Row): RankedCounts {
  return {
    streams: num(r.streams),
    plays: num(r.plays),
    minutes_listened: num(r.minutes_listened),
    listener_days: num(r.listener_days),
  };
}

/** Each row's share of the rows' events. */
function withShares<T extends { events: number }>(rows: T[]): (T & { share_of_events: number })[] {
  const total = rows.reduce((s, r) => s + r.events, 0);
  return rows.map((r) => ({ ...r, share_of_events: total ? r.events / total : 0 }));
}

async function deviceMix(wh: GoldWarehouse, b: Bounds): Promise<Overview['deviceMix']> {
  const rows = await wh.query<Row>(
    `SELECT device_type, CAST(SUM(events) AS BIGINT) AS events, CAST(SUM(plays) AS BIGINT) AS plays
     FROM gold.device_mix WHERE event_date >= CAST($1 AS DATE) AND event_date <= CAST($2 AS DATE)
     GROUP BY device_type ORDER BY events DESC, device_type`,
    [...b.days],
  );
  return withShares(
    rows.map((r) => ({ device_type: str(r.device_type), events: num(r.events), plays: num(r.plays) })),
  );
}

async function countryMix(wh: GoldWarehouse, b: Bounds): Promise<Overview['countryMix']> {
  const rows = await wh.query<Row>(
    `SELECT country, CAST(SUM(events) AS BIGINT) AS events, CAST(SUM(plays) AS BIGINT) AS plays
     FROM gold.country_mix WHERE event_date >= CAST($1 AS DATE) AND event_date <= CAST($2 AS DATE)
     GROUP BY country ORDER BY events DESC, country`,
    [...b.days],
  );
  return withShares(
    rows.map((r) => ({ country: str(r.country), events: num(r.events), plays: num(r.plays) })),
  );
}

async function sessionStats(wh: GoldWarehouse, b: Bounds): Promise<Overview['sessionStats']> {
  const [s = {}] = await wh.query<Row>(
    `SELECT COUNT(*) AS sessions, COUNT(DISTINCT user_id) AS users, AVG(minutes_listened) AS avg_minutes,
            AVG(events) AS avg_events, MAX(minutes_listened) AS max_minutes
     FROM gold.listening_sessions
     WHERE session_start >= CAST($1 AS TIMESTAMP) AND session_start < CAST($2 AS TIMESTAMP)`,
    [b.startTs, b.endTs],
  );
  return {
    sessions: num(s.sessions),
    users: num(s.users),
    avgMinutes: num(s.avg_minutes),
    avgEvents: num(s.avg_events),
    maxMinutes: num(s.max_minutes),
  };
}

async function streaks(wh: GoldWarehouse, b: Bounds): Promise<Overview['streaks']> {
  const rows = await wh.query<Row>(
    `SELECT user_id, artist_name, streak_start, streak_end, streak_length FROM gold.artist_streaks
     WHERE streak_start >= CAST($1 AS TIMESTAMP) AND streak_start < CAST($2 AS TIMESTAMP)
     ORDER BY streak_length DESC, streak_start, user_id LIMIT ${TOP_N}`,
    [b.startTs, b.endTs],
  );
  return rows.map((r) => ({
    user_id: str(r.user_id),
    artist_name: str(r.artist_name),
    streak_start: str(r.streak_start),
    streak_end: str(r.streak_end),
    streak_length: num(r.streak_length),
  }));
}

async function songSkipRates(wh: GoldWarehouse): Promise<Overview['songSkipRates']> {
  const rows = await wh.query<Row>(
    `SELECT song_id, song_name, artist_name, plays, skips, skip_rate FROM gold.song_skip_rates
     WHERE plays >= $1 AND skip_rate IS NOT NULL ORDER BY skip_rate DESC, plays DESC, song_id LIMIT ${TOP_N}`,
    [MIN_PLAYS_FOR_SKIP_RATE],
  );
  return rows.map((r) => ({
    song_id: str(r.song_id),
    song_name: str(r.song_name),
    artist_name: str(r.artist_name),
    plays: num(r.plays),
    skips: num(r.skips),
    skip_rate: numOrNull(r.skip_rate),
  }));
}

async function artistSkipRates(wh: GoldWarehouse): Promise<Overview['artistSkipRates']> {
  const rows = await wh.query<Row>(
    `SELECT artist_name, plays, skips, skip_rate FROM gold.artist_skip_rates
     WHERE plays >= $1 AND skip_rate IS NOT NULL ORDER BY skip_rate DESC, plays DESC, artist_name LIMIT ${TOP_N}`,
    [MIN_PLAYS_FOR_SKIP_RATE],
  );
  return rows.map((r) => ({
    artist_name: str(r.artist_name),
    plays: num(r.plays),
    skips: num(r.skips),
    skip_rate: numOrNull(r.skip_rate),
  }));
}

async function hourlyPreferences(wh: GoldWarehouse): Promise<Overview['hourlyPreferences']> {
  const rows = await wh.query<Row>(
    `SELECT hour_of_day, plays, skips, listeners, skip_rate, minutes_listened
     FROM gold.hourly_listening_preferences ORDER BY hour_of_day`,
  );
  return rows.map((r) => ({
    hour_of_day: num(r.hour_of_day),
    plays: num(r.plays),
    skips: num(r.skips),
    listeners: num(r.listeners),
    skip_rate: numOrNull(r.skip_rate),
    minutes_listened: num(r.minutes_listened),
  }));
}

async function popularity(wh: GoldWarehouse): Promise<Overview['popularity']> {
  const rows = await wh.query<Row>(
    `SELECT bucket, bucket_order, songs, plays, share_of_plays FROM gold.song_popularity_distribution
     ORDER BY bucket_order`,
  );
  return rows.map((r) => ({
    bucket: str(r.bucket),
    bucket_order: num(r.bucket_order),
    songs: num(r.songs),
    plays: num(r.plays),
    share_of_plays: num(r.share_of_plays),
  }));
}

/** The headline numbers: sums over the hours in range, sessions and listeners from the session stats. */
function totals(hours: Overview['playsPerHour'], sessions: Overview['sessionStats']): Overview['totals'] {
  return {
    plays: hours.reduce((a, r) => a + r.plays, 0),
    skips: hours.reduce((a, r) => a + r.skips, 0),
    events: hours.reduce((a, r) => a + r.events, 0),
    minutesListened: hours.reduce((a, r) => a + r.minutes_listened, 0),
    sessions: sessions.sessions,
    activeListeners: sessions.users,
  };
}

/**
 * Everything the overview charts show for a date range (inclusive days, UTC): one named read per chart or
 * table, run one after the other (an embedded DuckDB connection runs one statement at a time).
 */
export async function overview(wh: GoldWarehouse, range: DateRange): Promise<Overview> {
  const b = bounds(range);
  const hours = await playsPerHour(wh, b);
  const origins = await sources(wh, b);
  const tracks = await topTracks(wh, b);
  const artists = await topArtists(wh, b);
  const devices = await deviceMix(wh, b);
  const countries = await countryMix(wh, b);
  const sessions = await sessionStats(wh, b);
  const topStreaks = await streaks(wh, b);
  // The next four are all-time marts (Gold has no date on them).
  const songSkips = await songSkipRates(wh);
  const artistSkips = await artistSkipRates(wh);
  const hourly = await hourlyPreferences(wh);
  const buckets = await popularity(wh);
  return {
    range,
    totals: totals(hours, sessions),
    playsPerHour: hours,
    sources: origins,
    topTracks: tracks,
    topArtists: artists,
    deviceMix: devices,
    countryMix: countries,
    sessionStats: sessions,
    streaks: topStreaks,
    songSkipRates: songSkips,
    artistSkipRates: artistSkips,
    hourlyPreferences: hourly,
    popularity: buckets,
  };
}

export interface UserSummary {
  readonly user_id: string;
  readonly plays: number;
  readonly minutes_listened: number;
}

/** The most active users, optionally those whose id contains `search` (case-insensitive). */
export async function topUsers(wh: GoldWarehouse, search: string, limit: number): Promise<UserSummary[]> {
  const rows = await wh.query<Row>(
    `SELECT user_id, plays, minutes_listened FROM gold.user_wrapped
     WHERE period = 'all_time' AND ($1 = '' OR POSITION($1 IN LOWER(user_id)) > 0)
     ORDER BY plays DESC, user_id LIMIT ${Math.trunc(limit)}`,
    [search.toLowerCase()],
  );
  return rows.map((r) => ({
    user_id: str(r.user_id),
    plays: num(r.plays),
    minutes_listened: num(r.minutes_listened),
  }));
}

/** A Wrapped period of gold.user_wrapped: all time, a calendar year, or the last 6 months or 4 weeks. */
const WRAPPED_PERIOD = /^(all_time|last_6_months|last_4_weeks|year_[0-9]{4})$/;

/** The `period` parameter of the Wrapped API: all_time when absent; InputError naming the accepted values. */
export function parseWrappedPeriod(value: string | null): string {
  if (value === null || value === '') return 'all_time';
  if (!WRAPPED_PERIOD.test(value)) {
    throw new InputError(
      `period must be all_time, last_6_months, last_4_weeks or year_YYYY (e.g. year_2026), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export interface WrappedPeriod {
  readonly period: string;
  readonly start: string;
  readonly end: string;
  readonly plays: number;
}

export interface Wrapped {
  readonly period: string;
  /** Every period the listener has plays in, all time first, then the last 6 months, 4 weeks, the years. */
  readonly periods: readonly WrappedPeriod[];
  readonly user: {
    user_id: string;
    plays: number;
    streams: number;
    minutes_listened: number;
    distinct_songs: number;
    distinct_artists: number;
    top_artist_name: string;
    top_song_id: string;
    top_song_name: string;
    first_event_at: string;
    last_event_at: string;
  };
  readonly topArtists: readonly {
    rank: number;
    artist_name: string;
    streams: number;
    minutes_listened: number;
  }[];
  readonly topTracks: readonly {
    rank: number;
    song_id: string;
    song_name: string;
    artist_name: string;
    streams: number;
    minutes_listened: number;
  }[];
  /** Plays per listener-local hour of day (0-23) in the period. */
  readonly clock: readonly { local_hour: number; plays: number; minutes_listened: number }[];
  readonly sessions: number;
  readonly longestStreak: { artist_name: string; streak_length: number; streak_start: string } | null;
}

const PERIOD_ORDER = ['all_time', 'last_6_months', 'last_4_weeks'];
const periodRank = (p: string): string => {
  const i = PERIOD_ORDER.indexOf(p);
  return i >= 0 ? `${i}` : `9${9999 - Number(p.slice(5))}`; // years after the rolling periods, newest first
};

/**
 * One listener's Wrapped for a period (gold.user_wrapped, user_wrapped_top, user_wrapped_clock); sessions and
 * the longest play streak are all time. NotFoundError when Gold has no plays for the listener in the period.
 */
export async function wrapped(wh: GoldWarehouse, userId: string, period = 'all_time'): Promise<Wrapped> {
  const [periods, users, tops, clock, sessions, streaks] = await inSequence([
    () =>
      wh.query<Row>(
        `SELECT period, period_start_date, period_end_date, plays FROM gold.user_wrapped WHERE user_id = $1`,
        [userId],
      ),
    () =>
      wh.query<Row>(
        `SELECT user_id, plays, streams, minutes_listened, distinct_songs, distinct_artists, top_artist_name,
              top_song_id, top_song_name, first_event_at, last_event_at
         FROM gold.user_wrapped WHERE user_id = $1 AND period = $2`,
        [userId, period],
      ),
    () =>
      wh.query<Row>(
        `SELECT kind, rank, artist_name, song_id, song_name, streams, minutes_listened FROM gold.user_wrapped_top
         WHERE user_id = $1 AND period = $2 ORDER BY kind, rank`,
        [userId, period],
      ),
    () =>
      wh.query<Row>(
        `SELECT local_hour, plays, minutes_listened FROM gold.user_wrapped_clock
         WHERE user_id = $1 AND period = $2 ORDER BY local_hour`,
        [userId, period],
      ),
    () =>
      wh.query<Row>(`SELECT COUNT(*) AS sessions FROM gold.listening_sessions WHERE user_id = $1`, [userId]),
    () =>
      wh.query<Row>(
        `SELECT artist_name, streak_length, streak_start FROM gold.artist_streaks WHERE user_id = $1
       ORDER BY streak_length DESC, streak_start LIMIT 1`,
        [userId],
      ),
  ]);
  const u = users[0];
  if (!u) {
    throw new NotFoundError(
      periods.length === 0
        ? `No listening history for user ${JSON.stringify(userId)} in Gold (users appear after their first play)`
        : `User ${JSON.stringify(userId)} has no plays in the period ${period}; pick one of ${periods.map((p) => str(p.period)).join(', ')}`,
    );
  }
  const streak = streaks[0];
  return {
    period,
    periods: periods
      .map((p) => ({
        period: str(p.period),
        start: str(p.period_start_date).slice(0, 10),
        end: str(p.period_end_date).slice(0, 10),
        plays: num(p.plays),
      }))
      .sort((a, b) => (periodRank(a.period) < periodRank(b.period) ? -1 : 1)),
    user: {
      user_id: str(u.user_id),
      plays: num(u.plays),
      streams: num(u.streams),
      minutes_listened: num(u.minutes_listened),
      distinct_songs: num(u.distinct_songs),
      distinct_artists: num(u.distinct_artists),
      top_artist_name: str(u.top_artist_name),
      top_song_id: str(u.top_song_id),
      top_song_name: str(u.top_song_name),
      first_event_at: str(u.first_event_at),
      last_event_at: str(u.last_event_at),
    },
    topArtists: tops
      .filter((r) => r.kind === 'artist')
      .map((r) => ({
        rank: num(r.rank),
        artist_name: str(r.artist_name),
        streams: num(r.streams),
        minutes_listened: num(r.minutes_listened),
      })),
    topTracks: tops
      .filter((r) => r.kind === 'track')
      .map((r) => ({
        rank: num(r.rank),
        song_id: str(r.song_id),
        song_name: str(r.song_name),
        artist_name: str(r.artist_name),
        streams: num(r.streams),
        minutes_listened: num(r.minutes_listened),
      })),
    clock: clock.map((r) => ({
      local_hour: num(r.local_hour),
      plays: num(r.plays),
      minutes_listened: num(r.minutes_listened),
    })),
    sessions: num(sessions[0]?.sessions),
    longestStreak: streak
      ? {
          artist_name: str(streak.artist_name),
          streak_length: num(streak.streak_length),
          streak_start: str(streak.streak_start),
        }
      : null,
  };
}
