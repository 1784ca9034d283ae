/**
 * Builds DuckDB files with the Gold schema of docs/data-model.md for the dashboard tests: realistic
 * listening events (sessions, artist streaks, skips, several devices and countries over three days) are
 * generated from a seeded random source, and every Gold table is derived from them with SQL, so the marts
 * agree with each other the way dbt's would.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/** A small deterministic PRNG (mulberry32): the same seed gives the same data on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ARTISTS = [
  'Aurora Lane',
  'The Midnight Owls',
  'Kofi Mensah',
  'Lena Sørensen',
  'Neon Harbor',
  'Marisol Vega',
  'Glass Animals Club',
  'DJ Tempest',
  'Yuki Tanabe',
  'Velvet Static',
  'Oskar & the Pines',
  'Amara Diallo',
];
const WORDS = [
  'Blue',
  'Night',
  'Echo',
  'Gold',
  'River',
  'Fire',
  'Paper',
  'Storm',
  'Ghost',
  'Summer',
  'Glass',
  'Wild',
];
const NOUNS = [
  'Hearts',
  'Lights',
  'Road',
  'Dreams',
  'Tide',
  'Signal',
  'Garden',
  'Skyline',
  'Fever',
  'Letters',
];
const DEVICES = ['mobile', 'desktop', 'web'];
const COUNTRIES = ['US', 'GB', 'DE', 'BR', 'SE', 'JP', 'NG', 'MX', 'IN', 'FR'];

/** A user whose id needs escaping in HTML and in URLs. */
export const AWKWARD_USER = `o'brien <&> "dj"`;
export interface FixtureSize {
  /** Listeners besides the awkward one. @default 80 */
  readonly users?: number;
  /** Days from 2026-11-20 on. @default 3 */
  readonly days?: number;
  /** @default 7 */
  readonly seed?: number;
}

function fixtureDays(n: number): string[] {
  return Array.from({ length: n }, (_, i) => new Date(Date.UTC(2026, 10, 20 + i)).toISOString().slice(0, 10));
}

interface Song {
  song_id: string;
  song_name: string;
  artist_name: string;
}

function catalogue(rnd: () => number): Song[] {
  const songs: Song[] = [];
  ARTISTS.forEach((artist, a) => {
    for (let i = 0; i < 10; i++) {
      const name = `${WORDS[Math.floor(rnd() * WORDS.length)]} ${NOUNS[Math.floor(rnd() * NOUNS.length)]}`;
      songs.push({
        song_id: `trk${String(a * 10 + i + 1).padStart(4, '0')}`,
        song_name: name,
        artist_name: artist,
      });
    }
  });
  return songs;
}

/** NDJSON events: listeners with their own tastes, a few sessions a day each. */
function events({ users: userCount = 80, days = 3, seed = 7 }: FixtureSize): string {
  const rnd = random(seed);
  const songs = catalogue(rnd);
  const users = Array.from({ length: userCount }, (_, i) => `user-${String(i + 1).padStart(4, '0')}`);
  users.push(AWKWARD_USER);
  const lines: string[] = [];
  const charts = [...songs].sort(() => rnd() - 0.5);
  const byArtist = new Map<string, Song[]>();
  for (const x of songs) byArtist.set(x.artist_name, [...(byArtist.get(x.artist_name) ?? []), x]);
  let n = 0;
  const pick = <T>(xs: readonly T[], skew = 1): T => xs[Math.floor(Math.pow(rnd(), skew) * xs.length)] as T;
  for (const [u, user] of users.entries()) {
    const device = pick(DEVICES, 1.5);
    const country = pick(COUNTRIES, 1.8);
    const favourites = [...songs].sort(() => rnd() - 0.5);
    const activity = 0.4 + rnd();
    for (const day of fixtureDays(days)) {
      const sessions = 1 + Math.floor(rnd() * 4 * activity);
      // Session start hours, evenings more likely, at least two hours apart so sessions stay distinct.
      const hours = [
        ...new Set(Array.from({ length: sessions }, () => Math.floor(Math.pow(rnd(), 0.6) * 24))),
      ].sort((a, b) => a - b);
      for (const [s, hour] of hours.entries()) {
        if (s > 0 && hour - (hours[s - 1] as number) < 2) continue;
        let t = Date.parse(`${day}T00:00:00Z`) + hour * 3_600_000 + Math.floor(rnd() * 1_800_000);
        let song = pick(favourites, 2.5);
        const length = 3 + Math.floor(rnd() * 12 * activity);
        for (let e = 0; e < length; e++) {
          // Listeners often stay with one artist for a while: that is what makes streaks.
          if (rnd() < 0.55) {
            song = pick(byArtist.get(song.artist_name) as Song[]);
          } else {
            // Half the time the global charts (a steep skew over the catalogue), else the listener's own taste.
            song = rnd() < 0.5 ? pick(charts, 1.8) : pick(favourites, 2.5);
          }
          const r = rnd();
          const type = r < 0.72 ? 'play' : r < 0.9 ? 'skip' : r < 0.95 ? 'pause' : 'add_to_playlist';
          // One play in six is cut short (under 30 s: a play, not a stream), so plays and streams rank apart.
          const short = type === 'play' && rnd() < 1 / 6;
          const duration =
            type === 'play' && !short
              ? 120_000 + Math.floor(rnd() * 180_000)
              : 2_000 + Math.floor(rnd() * 25_000);
          n += 1;
          lines.push(
            JSON.stringify({
              event_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
              user_id: user,
              song_id: song.song_id,
              artist_name: song.artist_name,
              song_name: song.song_name,
              event_type: type,
              device_type: u % 7 === 0 ? pick(DEVICES) : device,
              country,
              event_timestamp: new Date(t).toISOString().replace('T', ' ').replace('Z', ''),
              duration_ms: duration,
            }),
          );
          t += type === 'play' ? duration + Math.floor(rnd() * 20_000) : duration;
        }
      }
    }
  }
  return lines.join('\n') + '\n';
}

const PLAY = `event_type = 'play'`;
/** A stream: a play of at least 30 s (the fixture has no Web API plays). */
const STREAM = `${PLAY} AND duration_ms >= 30000`;
const MINUTES = `CAST(COALESCE(SUM(duration_ms) FILTER (WHERE ${PLAY}), 0) / 60000.0 AS DOUBLE)`;

/**
 * The Gold marts of docs/data-model.md, from a table `ev` of distinct events; and Silver's events with a
 * source each (every fifth from a streaming-history import, the rest simulated), for the page's sources line.
 */
const GOLD_SQL = `
CREATE SCHEMA silver;
CREATE TABLE silver.stg_spotify__events AS
  SELECT *, CASE WHEN hash(event_id) % 5 = 0 THEN 'spotify_history' ELSE 'simulator' END AS source FROM ev;
CREATE SCHEMA gold;
CREATE TABLE gold.plays_per_hour AS
  SELECT date_trunc('hour', event_timestamp) AS hour_start, COUNT(*) AS events,
         COUNT(*) FILTER (WHERE ${PLAY}) AS plays, COUNT(*) FILTER (WHERE event_type = 'skip') AS skips,
         COUNT(DISTINCT user_id) AS listeners, ${MINUTES} AS minutes_listened
  FROM ev GROUP BY 1;
CREATE TABLE gold.track_days AS
  SELECT CAST(event_timestamp AS DATE) AS event_date, song_id, min(song_name) AS song_name,
         min(artist_name) AS artist_name, COUNT(*) AS events, COUNT(*) FILTER (WHERE ${STREAM}) AS streams,
         COUNT(*) FILTER (WHERE ${PLAY}) AS plays, COUNT(*) FILTER (WHERE event_type = 'skip') AS skips,
         ${MINUTES} AS minutes_listened, COUNT(DISTINCT user_id) AS listeners
  FROM ev GROUP BY 1, 2;
CREATE TABLE gold.artist_days AS
  SELECT CAST(event_timestamp AS DATE) AS event_date, artist_name, COUNT(*) AS events,
         COUNT(*) FILTER (WHERE ${STREAM}) AS streams, COUNT(*) FILTER (WHERE ${PLAY}) AS plays,
         COUNT(*) FILTER (WHERE event_type = 'skip') AS skips, ${MINUTES} AS minutes_listened,
         COUNT(DISTINCT user_id) AS listeners
  FROM ev GROUP BY 1, 2;
CREATE TABLE gold.top_tracks_daily AS
  SELECT * FROM (
    SELECT event_date, row_number() OVER (
             PARTITION BY event_date ORDER BY streams DESC, minutes_listened DESC, listeners DESC, song_id) AS rank,
           song_id, song_name, artist_name, streams, plays, minutes_listened, listeners
    FROM gold.track_days WHERE streams > 0) WHERE rank <= 100;
CREATE TABLE gold.top_artists_daily AS
  SELECT * FROM (
    SELECT event_date, row_number() OVER (
             PARTITION BY event_date ORDER BY streams DESC, minutes_listened DESC, listeners DESC, artist_name) AS rank,
           artist_name, streams, plays, minutes_listened, listeners
    FROM gold.artist_days WHERE streams > 0) WHERE rank <= 100;
CREATE TABLE gold.song_skip_rates AS
  SELECT song_id, any_value(song_name) AS song_name, any_value(artist_name) AS artist_name,
         COUNT(*) FILTER (WHERE ${PLAY}) AS plays, COUNT(*) FILTER (WHERE event_type = 'skip') AS skips,
         CAST(COUNT(*) FILTER (WHERE event_type = 'skip') AS DOUBLE) / NULLIF(COUNT(*) FILTER (WHERE ${PLAY}), 0) AS skip_rate
  FROM ev GROUP BY song_id;
CREATE TABLE gold.artist_skip_rates AS
  SELECT artist_name, COUNT(*) FILTER (WHERE ${PLAY}) AS plays, COUNT(*) FILTER (WHERE event_type = 'skip') AS skips,
         CAST(COUNT(*) FILTER (WHERE event_type = 'skip') AS DOUBLE) / NULLIF(COUNT(*) FILTER (WHERE ${PLAY}), 0) AS skip_rate
  FROM ev GROUP BY artist_name;
CREATE TABLE gold.device_mix AS
  SELECT *, CAST(events AS DOUBLE) / SUM(events) OVER (PARTITION BY event_date) AS share_of_events FROM (
    SELECT CAST(event_timestamp AS DATE) AS event_date, device_type, COUNT(*) AS events,
           COUNT(*) FILTER (WHERE ${PLAY}) AS plays, COUNT(DISTINCT user_id) AS listeners
    FROM ev GROUP BY 1, 2);
CREATE TABLE gold.country_mix AS
  SELECT *, CAST(events AS DOUBLE) / SUM(events) OVER (PARTITION BY event_date) AS share_of_events FROM (
    SELECT CAST(event_timestamp AS DATE) AS event_date, country, COUNT(*) AS events,
           COUNT(*) FILTER (WHERE ${PLAY}) AS plays, COUNT(DISTINCT user_id) AS listeners
    FROM ev GROUP BY 1, 2);
CREATE TABLE gold.listening_sessions AS
  WITH marked AS (
    SELECT *, CASE WHEN event_timestamp - lag(event_timestamp) OVER w <= INTERVAL 30 MINUTE THEN 0 ELSE 1 END AS starts
    FROM ev WINDOW w AS (PARTITION BY user_id ORDER BY event_timestamp, event_id)),
  numbered AS (
    SELECT *, SUM(starts) OVER (PARTITION BY user_id ORDER BY event_timestamp, event_id) AS n FROM marked)
  SELECT user_id || '-' || CAST(epoch(MIN(event_timestamp)) AS BIGINT) AS session_id, user_id,
         MIN(event_timestamp) AS session_start, MAX(event_timestamp) AS session_end, COUNT(*) AS events,
         COUNT(*) FILTER (WHERE ${PLAY}) AS plays, COUNT(*) FILTER (WHERE event_type = 'skip') AS skips,
         COUNT(DISTINCT song_id) AS distinct_songs, ${MINUTES} AS minutes_listened
  FROM numbered GROUP BY user_id, n;
CREATE TABLE gold.artist_streaks AS
  WITH p AS (
    SELECT user_id, artist_name, event_timestamp,
           row_number() OVER (PARTITION BY user_id ORDER BY event_timestamp, event_id)
           - row_number() OVER (PARTITION BY user_id, artist_name ORDER BY event_timestamp, event_id) AS grp
    FROM ev WHERE ${PLAY})
  SELECT user_id, artist_name, MIN(event_timestamp) AS streak_start, MAX(event_timestamp) AS streak_end,
         COUNT(*) AS streak_length
  FROM p GROUP BY user_id, artist_name, grp HAVING COUNT(*) >= 3;
CREATE TABLE gold.hourly_listening_preferences AS
  SELECT CAST(hour(event_timestamp) AS INTEGER) AS hour_of_day, COUNT(*) FILTER (WHERE ${PLAY}) AS plays,
         COUNT(*) FILTER (WHERE event_type = 'skip') AS skips, COUNT(DISTINCT user_id) AS listeners,
         CAST(COUNT(*) FILTER (WHERE event_type = 'skip') AS DOUBLE) / NULLIF(COUNT(*) FILTER (WHERE ${PLAY}), 0) AS skip_rate,
         ${MINUTES} AS minutes_listened
  FROM ev GROUP BY 1;
CREATE TABLE gold.song_popularity_distribution AS
  WITH per_song AS (SELECT song_id, COUNT(*) AS plays FROM ev WHERE ${PLAY} GROUP BY song_id),
  bucketed AS (
    SELECT plays,
      CASE WHEN plays = 1 THEN '1' WHEN plays <= 5 THEN '2-5' WHEN plays <= 10 THEN '6-10' WHEN plays <= 50 THEN '11-50'
           WHEN plays <= 100 THEN '51-100' WHEN plays <= 500 THEN '101-500' ELSE '501+' END AS bucket,
      CASE WHEN plays = 1 THEN 1 WHEN plays <= 5 THEN 2 WHEN plays <= 10 THEN 3 WHEN plays <= 50 THEN 4
           WHEN plays <= 100 THEN 5 WHEN plays <= 500 THEN 6 ELSE 7 END AS bucket_order
    FROM per_song)
  SELECT bucket, bucket_order, COUNT(*) AS songs, SUM(plays)::BIGINT AS plays,
         SUM(plays) / (SELECT SUM(plays) FROM per_song)::DOUBLE AS share_of_plays
  FROM bucketed GROUP BY bucket, bucket_order;
CREATE TABLE gold.user_top_artists AS
  SELECT user_id, rank, artist_name, plays FROM (
    SELECT user_id, artist_name, COUNT(*) AS plays,
           row_number() OVER (PARTITION BY user_id ORDER BY COUNT(*) DESC, artist_name) AS rank
    FROM ev WHERE ${PLAY} GROUP BY user_id, artist_name) WHERE rank <= 5;
CREATE TABLE gold.user_top_tracks AS
  SELECT user_id, rank, song_id, song_name, artist_name, plays FROM (
    SELECT user_id, song_id, any_value(song_name) AS song_name, any_value(artist_name) AS artist_name, COUNT(*) AS plays,
           row_number() OVER (PARTITION BY user_id ORDER BY COUNT(*) DESC, any_value(song_name), song_id) AS rank
    FROM ev WHERE ${PLAY} GROUP BY user_id, song_id) WHERE rank <= 5;
CREATE TABLE gold.user_wrapped_top AS
  SELECT user_id, 'all_time' AS period, 'artist' AS kind, rank, artist_name, CAST(NULL AS VARCHAR) AS song_id,
         CAST(NULL AS VARCHAR) AS song_name, streams, minutes_listened FROM (
    SELECT user_id, artist_name, COUNT(*) FILTER (WHERE ${STREAM}) AS streams, ${MINUTES} AS minutes_listened,
           row_number() OVER (PARTITION BY user_id ORDER BY COUNT(*) FILTER (WHERE ${STREAM}) DESC, ${MINUTES} DESC, artist_name) AS rank
    FROM ev GROUP BY user_id, artist_name HAVING COUNT(*) FILTER (WHERE ${STREAM}) > 0) WHERE rank <= 5
  UNION ALL
  SELECT user_id, 'all_time', 'track', rank, artist_name, song_id, song_name, streams, minutes_listened FROM (
    SELECT user_id, song_id, min(song_name) AS song_name, min(artist_name) AS artist_name,
           COUNT(*) FILTER (WHERE ${STREAM}) AS streams, ${MINUTES} AS minutes_listened,
           row_number() OVER (PARTITION BY user_id ORDER BY COUNT(*) FILTER (WHERE ${STREAM}) DESC, ${MINUTES} DESC, min(song_name), song_id) AS rank
    FROM ev GROUP BY user_id, song_id HAVING COUNT(*) FILTER (WHERE ${STREAM}) > 0) WHERE rank <= 5;
CREATE TABLE gold.user_wrapped_clock AS
  SELECT user_id, 'all_time' AS period, CAST(hour(event_timestamp) AS INTEGER) AS local_hour, COUNT(*) AS plays,
         COUNT(*) FILTER (WHERE ${STREAM}) AS streams, ${MINUTES} AS minutes_listened
  FROM ev WHERE ${PLAY} GROUP BY 1, 2, 3;
CREATE TABLE gold.user_wrapped AS
  SELECT w.user_id, 'all_time' AS period, b.first_date AS period_start_date, b.last_date AS period_end_date,
         w.plays, w.streams, w.minutes_listened, w.distinct_songs, w.distinct_artists,
         a.artist_name AS top_artist_name, t.song_id AS top_song_id, t.song_name AS top_song_name,
         w.first_event_at, w.last_event_at
  FROM (SELECT user_id, COUNT(*) FILTER (WHERE ${PLAY}) AS plays, COUNT(*) FILTER (WHERE ${STREAM}) AS streams,
               ${MINUTES} AS minutes_listened,
               COUNT(DISTINCT song_id) FILTER (WHERE ${PLAY}) AS distinct_songs,
               COUNT(DISTINCT artist_name) FILTER (WHERE ${PLAY}) AS distinct_artists,
               MIN(event_timestamp) AS first_event_at, MAX(event_timestamp) AS last_event_at
        FROM ev GROUP BY user_id HAVING COUNT(*) FILTER (WHERE ${PLAY}) > 0) w
  CROSS JOIN (SELECT CAST(MIN(event_timestamp) AS DATE) AS first_date, CAST(MAX(event_timestamp) AS DATE) AS last_date FROM ev) b
  LEFT JOIN gold.user_wrapped_top a ON a.user_id = w.user_id AND a.kind = 'artist' AND a.rank = 1
  LEFT JOIN gold.user_wrapped_top t ON t.user_id = w.user_id AND t.kind = 'track' AND t.rank = 1;
`;

const EV_COLUMNS = `{event_id: 'VARCHAR', user_id: 'VARCHAR', song_id: 'VARCHAR', artist_name: 'VARCHAR',
  song_name: 'VARCHAR', event_type: 'VARCHAR', device_type: 'VARCHAR', country: 'VARCHAR',
  event_timestamp: 'TIMESTAMP', duration_ms: 'BIGINT'}`;

/**
 * Writes a warehouse file at `file`: `full` holds Gold built from generated events, `empty` holds the Gold
 * tables with no rows (dbt ran before any event arrived), `no-gold` holds no gold schema (first start).
 */
export async function writeGoldFixture(
  file: string,
  kind: 'full' | 'empty' | 'no-gold' = 'full',
  size: FixtureSize = {},
): Promise<void> {
  const ndjson = path.join(path.dirname(file), `${path.basename(file)}.events.ndjson`);
  await writeFile(ndjson, kind === 'full' ? events(size) : '');
  const instance = await DuckDBInstance.create(file);
  const db = await instance.connect();
  try {
    await db.run(`CREATE SCHEMA IF NOT EXISTS bronze`);
    if (kind === 'no-gold') return;
    await db.run(
      kind === 'full'
        ? `CREATE TEMP TABLE ev AS SELECT * FROM read_json('${ndjson}', format = 'newline_delimited', columns = ${EV_COLUMNS})`
        : `CREATE TEMP TABLE ev (event_id VARCHAR, user_id VARCHAR, song_id VARCHAR, artist_name VARCHAR,
             song_name VARCHAR, event_type VARCHAR, device_type VARCHAR, country VARCHAR,
             event_timestamp TIMESTAMP, duration_ms BIGINT)`,
    );
    await db.run(GOLD_SQL);
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}
