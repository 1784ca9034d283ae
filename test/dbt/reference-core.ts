/**
 * The independent computation's shared part: Silver from the Bronze rows, and the definitions every Gold
 * table counts with (play, skip, stream, minutes, listeners, ranks). The marts are in reference-charts.ts and
 * reference-listeners.ts; reference.ts lists them all. Timestamps are ISO instants, dates 'YYYY-MM-DD'.
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
  /** ISO instant of the load that brought the kept copy. */
  readonly loaded_at: string;
}

export const HOUR = 3_600_000;

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
      loaded_at: new Date(Date.parse(r.loaded_at)).toISOString(),
    };
  });
}

export function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

export const isPlay = (e: SilverEvent): boolean => e.event_type === 'play';
export const isSkip = (e: SilverEvent): boolean => e.event_type === 'skip';
export const plays = (es: readonly SilverEvent[]): number => es.filter(isPlay).length;
export const skips = (es: readonly SilverEvent[]): number => es.filter(isSkip).length;
export const listeners = (es: readonly SilverEvent[]): number => new Set(es.map((e) => e.user_id)).size;
/** Minutes of the plays whose duration_ms is known: an unknown one adds nothing (it is not 0 minutes, it is not counted). */
export const minutes = (es: readonly SilverEvent[]): number =>
  es.filter(isPlay).reduce((sum, e) => sum + (e.duration_ms ?? 0), 0) / 60000;
/** Sources that report skips; the Web API's plays are left out of skip rates. */
/**
 * A stream is a play of at least 30 s (macro `is_stream`), as Spotify counts one. A play whose listened time
 * is unknown counts when its source lists only plays over 30 s: the Web API's recently-played does.
 */
export const isStream = (e: SilverEvent): boolean =>
  isPlay(e) && (e.duration_ms === null ? e.source === 'spotify_api' : e.duration_ms >= 30_000);
export const streams = (es: readonly SilverEvent[]): number => es.filter(isStream).length;
export const SKIP_REPORTING = new Set(['simulator', 'spotify_history']);
export const minOf = (values: readonly string[]): string => values.reduce((a, b) => (b < a ? b : a));
export const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
export const rate = (s: number, p: number): number | null => (p === 0 ? null : s / p);

/**
 * The skip rate (macro `skip_rate`): skips over plays and skips, both of sources that report skips; null
 * without such events. Within [0, 1] by construction, whatever was quarantined.
 */
export function skipRate(es: readonly SilverEvent[]): number | null {
  const reported = es.filter((e) => SKIP_REPORTING.has(e.source));
  return rate(skips(reported), plays(reported) + skips(reported));
}

/** What a chart ranks: streams, then minutes listened, then (daily charts) listeners, then the name or id. */
export interface Rankable {
  readonly name: string;
  readonly streams: number;
  readonly minutes_listened: number;
  readonly listeners?: number;
}

/**
 * The items ranked by streams, minutes listened and listeners (each descending, listeners only where the
 * items have them), then name ascending; the first `top` kept (row_number, no ties).
 */
export function rankedByStreams<T extends Rankable>(
  items: readonly T[],
  top: number,
): (T & { rank: number })[] {
  return [...items]
    .sort(
      (a, b) =>
        b.streams - a.streams ||
        b.minutes_listened - a.minutes_listened ||
        (b.listeners ?? 0) - (a.listeners ?? 0) ||
        cmp(a.name, b.name),
    )
    .slice(0, top)
    .map((item, i) => ({ ...item, rank: i + 1 }));
}

/** Every hour from the first to the last of `hours` (ISO instants at the hour), in order: the hour spine. */
export function hourSpine(hours: readonly string[]): string[] {
  if (hours.length === 0) return [];
  const times = hours.map((h) => Date.parse(h));
  const first = Math.min(...times);
  const last = Math.max(...times);
  const out: string[] = [];
  for (let t = first; t <= last; t += HOUR) out.push(new Date(t).toISOString());
  return out;
}
