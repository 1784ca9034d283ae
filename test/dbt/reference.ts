/**
 * An independent computation of Silver and every Gold table in TypeScript, straight from the Bronze rows and
 * the definitions in docs/data-model.md (not from the warehouse), to compare with what dbt builds.
 * Timestamps are ISO instants ('...T..:..:..sssZ'), dates 'YYYY-MM-DD'.
 */
import type { BronzeRow } from './dataset.ts';

export type Value = string | number | null;
export type Row = Record<string, Value>;

export interface SilverEvent {
  readonly event_id: string;
  readonly user_id: string;
  readonly song_id: string;
  readonly artist_name: string;
  readonly song_name: string;
  /** null: the source does not know it (as device_type, country, duration_ms). */
  readonly album_name: string | null;
  readonly track_length_ms: number | null;
  readonly event_type: string;
  readonly device_type: string | null;
  readonly country: string | null;
  /** A version-1 event's source is the simulator. */
  readonly source: string;
  readonly ts: number;
  readonly event_timestamp: string;
  readonly event_date: string;
  readonly event_hour: string;
  readonly duration_ms: number | null;
  readonly kafka_partition: number;
  readonly kafka_offset: number;
}

const HOUR = 3_600_000;

/** One row per event_id: the copy with the lowest (kafka_partition, kafka_offset), then the earliest load. */
export function silver(rows: readonly BronzeRow[]): SilverEvent[] {
  const best = new Map<string, BronzeRow>();
  for (const r of rows) {
    const cur = best.get(r.event_id);
    const better =
      !cur ||
      r.kafka_partition < cur.kafka_partition ||
      (r.kafka_partition === cur.kafka_partition &&
        (r.kafka_offset < cur.kafka_offset ||
          (r.kafka_offset === cur.kafka_offset && r.loaded_at < cur.loaded_at)));
    if (better) best.set(r.event_id, r);
  }
  return [...best.values()].map((r) => {
    const ts = Date.parse(r.timestamp);
    const iso = new Date(ts).toISOString();
    return {
      event_id: r.event_id,
      user_id: r.user_id,
      song_id: r.song_id,
      artist_name: r.artist_name,
      song_name: r.song_name,
      album_name: r.schema_version === 2 ? r.album_name : null,
      track_length_ms: r.schema_version === 2 ? r.track_length_ms : null,
      event_type: r.event_type,
      device_type: r.device_type,
      country: r.country,
      source: r.schema_version === 2 ? r.source : 'simulator',
      ts,
      event_timestamp: iso,
      event_date: iso.slice(0, 10),
      event_hour: new Date(Math.floor(ts / HOUR) * HOUR).toISOString(),
      duration_ms: r.duration_ms,
      kafka_partition: r.kafka_partition,
      kafka_offset: r.kafka_offset,
    };
  });
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

const isPlay = (e: SilverEvent): boolean => e.event_type === 'play';
const isSkip = (e: SilverEvent): boolean => e.event_type === 'skip';
const plays = (es: readonly SilverEvent[]): number => es.filter(isPlay).length;
const skips = (es: readonly SilverEvent[]): number => es.filter(isSkip).length;
const listeners = (es: readonly SilverEvent[]): number => new Set(es.map((e) => e.user_id)).size;
/** Minutes of the plays whose duration_ms is known: an unknown one adds nothing (it is not 0 minutes, it is not counted). */
const minutes = (es: readonly SilverEvent[]): number =>
  es.filter(isPlay).reduce((sum, e) => sum + (e.duration_ms ?? 0), 0) / 60000;
/** Sources that report skips; the Web API's plays are left out of skip rates. */
const SKIP_REPORTING = new Set(['simulator', 'spotify_history']);
const skipReportedPlays = (es: readonly SilverEvent[]): number =>
  es.filter((e) => isPlay(e) && SKIP_REPORTING.has(e.source)).length;
const minOf = (values: readonly string[]): string => values.reduce((a, b) => (b < a ? b : a));
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const rate = (s: number, p: number): number | null => (p === 0 ? null : s / p);

/** Ranks groups by plays descending then name ascending, keeping the first `top` (row_number, no ties). */
function ranked<T extends { plays: number; name: string }>(
  items: T[],
  top: number,
): (T & { rank: number })[] {
  return items
    .sort((a, b) => b.plays - a.plays || cmp(a.name, b.name))
    .slice(0, top)
    .map((item, i) => ({ ...item, rank: i + 1 }));
}

export function playsPerHour(events: readonly SilverEvent[]): Row[] {
  return [...groupBy(events, (e) => e.event_hour)].map(([hour, es]) => ({
    hour_start: hour,
    events: es.length,
    plays: plays(es),
    skips: skips(es),
    listeners: listeners(es),
    minutes_listened: minutes(es),
  }));
}

export function topTracksDaily(events: readonly SilverEvent[]): Row[] {
  const out: Row[] = [];
  for (const [date, es] of groupBy(events, (e) => e.event_date)) {
    const songs = [...groupBy(es, (e) => e.song_id)]
      .map(([song, ses]) => ({
        name: song,
        plays: plays(ses),
        listeners: listeners(ses),
        song_name: minOf(ses.map((e) => e.song_name)),
        artist_name: minOf(ses.map((e) => e.artist_name)),
      }))
      .filter((s) => s.plays > 0);
    for (const s of ranked(songs, 100)) {
      out.push({
        event_date: date,
        rank: s.rank,
        song_id: s.name,
        song_name: s.song_name,
        artist_name: s.artist_name,
        plays: s.plays,
        listeners: s.listeners,
      });
    }
  }
  return out;
}

export function topArtistsDaily(events: readonly SilverEvent[]): Row[] {
  const out: Row[] = [];
  for (const [date, es] of groupBy(events, (e) => e.event_date)) {
    const artists = [...groupBy(es, (e) => e.artist_name)]
      .map(([artist, aes]) => ({ name: artist, plays: plays(aes), listeners: listeners(aes) }))
      .filter((a) => a.plays > 0);
    for (const a of ranked(artists, 100)) {
      out.push({
        event_date: date,
        rank: a.rank,
        artist_name: a.name,
        plays: a.plays,
        listeners: a.listeners,
      });
    }
  }
  return out;
}

export function songSkipRates(events: readonly SilverEvent[]): Row[] {
  return [...groupBy(events, (e) => e.song_id)].map(([song, es]) => ({
    song_id: song,
    song_name: minOf(es.map((e) => e.song_name)),
    artist_name: minOf(es.map((e) => e.artist_name)),
    plays: plays(es),
    skips: skips(es),
    skip_rate: rate(skips(es), skipReportedPlays(es)),
  }));
}

export function artistSkipRates(events: readonly SilverEvent[]): Row[] {
  return [...groupBy(events, (e) => e.artist_name)].map(([artist, es]) => ({
    artist_name: artist,
    plays: plays(es),
    skips: skips(es),
    skip_rate: rate(skips(es), skipReportedPlays(es)),
  }));
}

/** A mix of the events whose `dim` is known: an unknown (null) one is left out, also of the day's total. */
function mix(events: readonly SilverEvent[], dim: 'device_type' | 'country'): Row[] {
  const out: Row[] = [];
  const known = events.filter((e) => e[dim] !== null);
  for (const [date, es] of groupBy(known, (e) => e.event_date)) {
    for (const [value, des] of groupBy(es, (e) => e[dim] as string)) {
      out.push({
        event_date: date,
        [dim]: value,
        events: des.length,
        plays: plays(des),
        listeners: listeners(des),
        share_of_events: des.length / es.length,
      });
    }
  }
  return out;
}
export const deviceMix = (events: readonly SilverEvent[]): Row[] => mix(events, 'device_type');
export const countryMix = (events: readonly SilverEvent[]): Row[] => mix(events, 'country');

const byTime = (a: SilverEvent, b: SilverEvent): number => a.ts - b.ts || cmp(a.event_id, b.event_id);

export function listeningSessions(events: readonly SilverEvent[]): Row[] {
  const out: Row[] = [];
  for (const [user, es] of groupBy(events, (e) => e.user_id)) {
    const sorted = [...es].sort(byTime);
    let current: SilverEvent[] = [];
    const flush = (): void => {
      const first = current[0] as SilverEvent;
      const last = current[current.length - 1] as SilverEvent;
      out.push({
        session_id: `${user}-${Math.floor(first.ts / 1000)}`,
        user_id: user,
        session_start: first.event_timestamp,
        session_end: last.event_timestamp,
        events: current.length,
        plays: plays(current),
        skips: skips(current),
        distinct_songs: new Set(current.map((e) => e.song_id)).size,
        minutes_listened: minutes(current),
      });
    };
    for (const e of sorted) {
      const prev = current[current.length - 1];
      if (prev && e.ts - prev.ts > 30 * 60_000) {
        flush();
        current = [];
      }
      current.push(e);
    }
    if (current.length > 0) flush();
  }
  return out;
}

export function artistStreaks(events: readonly SilverEvent[]): Row[] {
  const out: Row[] = [];
  for (const [user, es] of groupBy(events.filter(isPlay), (e) => e.user_id)) {
    const sorted = [...es].sort(byTime);
    let start = 0;
    for (let i = 1; i <= sorted.length; i++) {
      const ended =
        i === sorted.length ||
        (sorted[i] as SilverEvent).artist_name !== (sorted[start] as SilverEvent).artist_name;
      if (!ended) continue;
      if (i - start >= 3) {
        out.push({
          user_id: user,
          artist_name: (sorted[start] as SilverEvent).artist_name,
          streak_start: (sorted[start] as SilverEvent).event_timestamp,
          streak_end: (sorted[i - 1] as SilverEvent).event_timestamp,
          streak_length: i - start,
        });
      }
      start = i;
    }
  }
  return out;
}

export function hourlyListeningPreferences(events: readonly SilverEvent[]): Row[] {
  return [...groupBy(events, (e) => String(new Date(e.ts).getUTCHours()))].map(([hour, es]) => ({
    hour_of_day: Number(hour),
    plays: plays(es),
    skips: skips(es),
    listeners: listeners(es),
    skip_rate: rate(skips(es), skipReportedPlays(es)),
    minutes_listened: minutes(es),
  }));
}

const BUCKETS: readonly [string, number][] = [
  ['1', 1],
  ['2-5', 5],
  ['6-10', 10],
  ['11-50', 50],
  ['51-100', 100],
  ['101-500', 500],
  ['501+', Infinity],
];

export function songPopularityDistribution(events: readonly SilverEvent[]): Row[] {
  const perSong = [...groupBy(events.filter(isPlay), (e) => e.song_id).values()].map((es) => es.length);
  const total = perSong.reduce((a, b) => a + b, 0);
  const out: Row[] = [];
  BUCKETS.forEach(([label, high], i) => {
    const low = i === 0 ? 1 : (BUCKETS[i - 1] as [string, number])[1] + 1;
    const inBucket = perSong.filter((p) => p >= low && p <= high);
    if (inBucket.length === 0) return;
    const bucketPlays = inBucket.reduce((a, b) => a + b, 0);
    out.push({
      bucket: label,
      bucket_order: i + 1,
      songs: inBucket.length,
      plays: bucketPlays,
      share_of_plays: bucketPlays / total,
    });
  });
  return out;
}

export function userTopArtists(events: readonly SilverEvent[]): Row[] {
  const out: Row[] = [];
  for (const [user, es] of groupBy(events.filter(isPlay), (e) => e.user_id)) {
    const artists = [...groupBy(es, (e) => e.artist_name)].map(([name, aes]) => ({
      name,
      plays: aes.length,
    }));
    for (const a of ranked(artists, 5))
      out.push({ user_id: user, rank: a.rank, artist_name: a.name, plays: a.plays });
  }
  return out;
}

export function userTopTracks(events: readonly SilverEvent[]): Row[] {
  const out: Row[] = [];
  for (const [user, es] of groupBy(events.filter(isPlay), (e) => e.user_id)) {
    const songs = [...groupBy(es, (e) => e.song_id)].map(([name, ses]) => ({
      name,
      plays: ses.length,
      song_name: minOf(ses.map((e) => e.song_name)),
      artist_name: minOf(ses.map((e) => e.artist_name)),
    }));
    for (const s of ranked(songs, 5)) {
      out.push({
        user_id: user,
        rank: s.rank,
        song_id: s.name,
        song_name: s.song_name,
        artist_name: s.artist_name,
        plays: s.plays,
      });
    }
  }
  return out;
}

export function userWrapped(events: readonly SilverEvent[]): Row[] {
  const topArtist = new Map(
    userTopArtists(events)
      .filter((r) => r.rank === 1)
      .map((r) => [r.user_id, r]),
  );
  const topTrack = new Map(
    userTopTracks(events)
      .filter((r) => r.rank === 1)
      .map((r) => [r.user_id, r]),
  );
  const out: Row[] = [];
  for (const [user, es] of groupBy(events, (e) => e.user_id)) {
    const played = es.filter(isPlay);
    if (played.length === 0) continue;
    const times = es.map((e) => e.ts);
    out.push({
      user_id: user,
      plays: played.length,
      minutes_listened: minutes(es),
      distinct_songs: new Set(played.map((e) => e.song_id)).size,
      distinct_artists: new Set(played.map((e) => e.artist_name)).size,
      top_artist_name: topArtist.get(user)?.artist_name ?? null,
      top_song_id: topTrack.get(user)?.song_id ?? null,
      top_song_name: topTrack.get(user)?.song_name ?? null,
      first_event_at: new Date(Math.min(...times)).toISOString(),
      last_event_at: new Date(Math.max(...times)).toISOString(),
    });
  }
  return out;
}

/** Every Gold table: its reference rows and its key columns (docs/data-model.md). */
export const GOLD: Readonly<
  Record<string, { compute: (e: readonly SilverEvent[]) => Row[]; key: readonly string[] }>
> = {
  plays_per_hour: { compute: playsPerHour, key: ['hour_start'] },
  top_tracks_daily: { compute: topTracksDaily, key: ['event_date', 'song_id'] },
  top_artists_daily: { compute: topArtistsDaily, key: ['event_date', 'artist_name'] },
  song_skip_rates: { compute: songSkipRates, key: ['song_id'] },
  artist_skip_rates: { compute: artistSkipRates, key: ['artist_name'] },
  device_mix: { compute: deviceMix, key: ['event_date', 'device_type'] },
  country_mix: { compute: countryMix, key: ['event_date', 'country'] },
  listening_sessions: { compute: listeningSessions, key: ['session_id'] },
  artist_streaks: { compute: artistStreaks, key: ['user_id', 'streak_start'] },
  hourly_listening_preferences: { compute: hourlyListeningPreferences, key: ['hour_of_day'] },
  song_popularity_distribution: { compute: songPopularityDistribution, key: ['bucket'] },
  user_wrapped: { compute: userWrapped, key: ['user_id'] },
  user_top_artists: { compute: userTopArtists, key: ['user_id', 'rank'] },
  user_top_tracks: { compute: userTopTracks, key: ['user_id', 'rank'] },
};
