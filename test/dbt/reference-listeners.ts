/** The independent computation of the listener marts (docs/data-model.md, "Listeners"). */
import {
  cmp,
  groupBy,
  isPlay,
  isStream,
  listeners,
  minutes,
  plays,
  skipRate,
  skips,
  streams,
  type Row,
  type SilverEvent,
} from './reference-core.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;
const SESSION_GAP = 30 * MINUTE;

/** A home country's time zone: the zone of the simulator's first offset for the country (its most populous). */
export const COUNTRY_TIME_ZONES: Readonly<Record<string, string>> = {
  AE: 'Asia/Dubai',
  AR: 'America/Argentina/Buenos_Aires',
  AT: 'Europe/Vienna',
  AU: 'Australia/Sydney',
  BE: 'Europe/Brussels',
  BR: 'America/Sao_Paulo',
  CA: 'America/Toronto',
  CH: 'Europe/Zurich',
  CL: 'America/Santiago',
  CO: 'America/Bogota',
  DE: 'Europe/Berlin',
  DK: 'Europe/Copenhagen',
  ES: 'Europe/Madrid',
  FI: 'Europe/Helsinki',
  FR: 'Europe/Paris',
  GB: 'Europe/London',
  ID: 'Asia/Jakarta',
  IE: 'Europe/Dublin',
  IN: 'Asia/Kolkata',
  IT: 'Europe/Rome',
  JP: 'Asia/Tokyo',
  KE: 'Africa/Nairobi',
  KR: 'Asia/Seoul',
  MX: 'America/Mexico_City',
  NG: 'Africa/Lagos',
  NL: 'Europe/Amsterdam',
  NO: 'Europe/Oslo',
  NZ: 'Pacific/Auckland',
  PE: 'America/Lima',
  PH: 'Asia/Manila',
  PL: 'Europe/Warsaw',
  PT: 'Europe/Lisbon',
  SE: 'Europe/Stockholm',
  SG: 'Asia/Singapore',
  TH: 'Asia/Bangkok',
  TR: 'Europe/Istanbul',
  US: 'America/New_York',
  VN: 'Asia/Ho_Chi_Minh',
  ZA: 'Africa/Johannesburg',
};

const formats = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock time in `timeZone` of the instant `ts`, as epoch milliseconds of that wall clock read as UTC. */
export function wallClock(ts: number, timeZone: string): number {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(timeZone, format);
  }
  const p: Record<string, number> = {};
  for (const part of format.formatToParts(ts)) p[part.type] = Number(part.value);
  const whole = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return whole + (((ts % 1000) + 1000) % 1000);
}

const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const byTime = (a: SilverEvent, b: SilverEvent): number => a.ts - b.ts || cmp(a.event_id, b.event_id);

export function dimListeners(events: readonly SilverEvent[]): Row[] {
  return [...groupBy(events, (e) => e.user_id)].map(([user, es]) => {
    const counts = new Map<string, number>();
    for (const e of es) if (e.country !== null) counts.set(e.country, (counts.get(e.country) ?? 0) + 1);
    const [country] = [...counts].sort((a, b) => b[1] - a[1] || cmp(a[0], b[0]))[0] ?? [null];
    const times = es.map((e) => e.ts);
    return {
      user_id: user,
      country,
      time_zone: (country !== null ? COUNTRY_TIME_ZONES[country] : undefined) ?? 'UTC',
      events: es.length,
      first_event_at: new Date(Math.min(...times)).toISOString(),
      last_event_at: new Date(Math.max(...times)).toISOString(),
    };
  });
}

/** A Silver event with its listener-local time, its end and its session (gold.listener_events). */
export interface ListenerEvent extends SilverEvent {
  readonly session_id: string;
  readonly end: number;
  readonly time_zone: string;
  readonly local: number;
  readonly local_date: string;
}

const endOf = (e: SilverEvent): number => (isPlay(e) && e.duration_ms !== null ? e.ts + e.duration_ms : e.ts);

/**
 * Sessions: a new one at an event starting more than 30 minutes after the latest end of the listener's earlier
 * events; its id is user_id-event_id of the first-loaded event (loaded_at, event_timestamp, event_id).
 */
export function withSessions(events: readonly SilverEvent[]): ListenerEvent[] {
  const zones = new Map(dimListeners(events).map((r) => [r.user_id, r.time_zone as string]));
  const out: ListenerEvent[] = [];
  for (const [user, es] of groupBy(events, (e) => e.user_id)) {
    const zone = zones.get(user) as string;
    const sessions: SilverEvent[][] = [];
    let latestEnd = -Infinity;
    for (const e of [...es].sort(byTime)) {
      if (sessions.length === 0 || e.ts > latestEnd + SESSION_GAP) sessions.push([]);
      (sessions[sessions.length - 1] as SilverEvent[]).push(e);
      latestEnd = Math.max(latestEnd, endOf(e));
    }
    for (const session of sessions) {
      const anchor = [...session].sort(
        (a, b) => cmp(a.loaded_at, b.loaded_at) || a.ts - b.ts || cmp(a.event_id, b.event_id),
      )[0] as SilverEvent;
      for (const e of session) {
        const local = wallClock(e.ts, zone);
        out.push({
          ...e,
          session_id: `${user}-${anchor.event_id}`,
          end: endOf(e),
          time_zone: zone,
          local,
          local_date: isoDate(local),
        });
      }
    }
  }
  return out;
}

const localHour = (e: ListenerEvent): number => new Date(e.local).getUTCHours();
const isoWeekday = (e: ListenerEvent): number => new Date(e.local).getUTCDay() || 7;

export function listenerEvents(events: readonly SilverEvent[]): Row[] {
  return withSessions(events).map((e) => ({
    event_id: e.event_id,
    user_id: e.user_id,
    session_id: e.session_id,
    song_id: e.song_id,
    song_name: e.song_name,
    artist_name: e.artist_name,
    album_name: e.album_name,
    track_length_ms: e.track_length_ms,
    event_type: e.event_type,
    duration_ms: e.duration_ms,
    source: e.source,
    event_timestamp: e.event_timestamp,
    event_end: new Date(e.end).toISOString(),
    loaded_at: e.loaded_at,
    time_zone: e.time_zone,
    local_timestamp: new Date(e.local).toISOString(),
    local_date: e.local_date,
    local_hour: localHour(e),
    local_weekday: isoWeekday(e),
  }));
}

export function listeningSessions(events: readonly SilverEvent[]): Row[] {
  return [...groupBy(withSessions(events), (e) => e.session_id)].map(([id, es]) => ({
    session_id: id,
    user_id: (es[0] as ListenerEvent).user_id,
    session_start: new Date(Math.min(...es.map((e) => e.ts))).toISOString(),
    session_end: new Date(Math.max(...es.map((e) => e.end))).toISOString(),
    events: es.length,
    plays: plays(es),
    skips: skips(es),
    distinct_songs: new Set(es.map((e) => e.song_id)).size,
    minutes_listened: minutes(es),
  }));
}

/** Play streaks: runs of >= 3 consecutive plays of one artist within one session. */
export function artistStreaks(events: readonly SilverEvent[]): Row[] {
  const out: Row[] = [];
  for (const [session, es] of groupBy(withSessions(events).filter(isPlay), (e) => e.session_id)) {
    const sorted = [...es].sort(byTime);
    let start = 0;
    for (let i = 1; i <= sorted.length; i++) {
      const first = sorted[start] as ListenerEvent;
      if (i < sorted.length && (sorted[i] as ListenerEvent).artist_name === first.artist_name) continue;
      if (i - start >= 3) {
        out.push({
          user_id: first.user_id,
          session_id: session,
          artist_name: first.artist_name,
          streak_start: first.event_timestamp,
          streak_end: (sorted[i - 1] as ListenerEvent).event_timestamp,
          streak_length: i - start,
        });
      }
      start = i;
    }
  }
  return out;
}

/** Day streaks: runs of >= 2 consecutive listener-local days with a stream of the artist. */
export function artistDayStreaks(events: readonly SilverEvent[]): Row[] {
  const out: Row[] = [];
  const streamed = withSessions(events).filter(isStream);
  for (const es of groupBy(streamed, (e) => `${e.user_id}\u0000${e.artist_name}`).values()) {
    const days = [...new Set(es.map((e) => Date.parse(e.local_date) / DAY))].sort((a, b) => a - b);
    let start = 0;
    for (let i = 1; i <= days.length; i++) {
      if (i < days.length && (days[i] as number) === (days[i - 1] as number) + 1) continue;
      if (i - start >= 2) {
        out.push({
          user_id: (es[0] as ListenerEvent).user_id,
          artist_name: (es[0] as ListenerEvent).artist_name,
          streak_start_date: isoDate((days[start] as number) * DAY),
          streak_end_date: isoDate((days[i - 1] as number) * DAY),
          streak_days: i - start,
        });
      }
      start = i;
    }
  }
  return out;
}

const distinctPlayed = (es: readonly SilverEvent[], key: (e: SilverEvent) => string): number =>
  new Set(es.filter(isPlay).map(key)).size;

export function listenerDays(events: readonly SilverEvent[]): Row[] {
  return [...groupBy(withSessions(events), (e) => `${e.user_id}|${e.local_date}`)].map(([, es]) => ({
    user_id: (es[0] as ListenerEvent).user_id,
    local_date: (es[0] as ListenerEvent).local_date,
    events: es.length,
    plays: plays(es),
    streams: streams(es),
    skips: skips(es),
    minutes_listened: minutes(es),
    distinct_songs: distinctPlayed(es, (e) => e.song_id),
    distinct_artists: distinctPlayed(es, (e) => e.artist_name),
    sessions: new Set(es.map((e) => e.session_id)).size,
  }));
}

export function listeningClock(events: readonly SilverEvent[]): Row[] {
  return [...groupBy(withSessions(events), (e) => `${isoWeekday(e)}|${localHour(e)}`)].map(([, es]) => ({
    local_weekday: isoWeekday(es[0] as ListenerEvent),
    local_hour: localHour(es[0] as ListenerEvent),
    events: es.length,
    plays: plays(es),
    streams: streams(es),
    skips: skips(es),
    listeners: listeners(es),
    minutes_listened: minutes(es),
  }));
}

export function hourlyListeningPreferences(events: readonly SilverEvent[]): Row[] {
  return [...groupBy(events, (e) => String(new Date(e.ts).getUTCHours()))].map(([hour, es]) => ({
    hour_of_day: Number(hour),
    plays: plays(es),
    skips: skips(es),
    listeners: listeners(es),
    skip_rate: skipRate(es),
    minutes_listened: minutes(es),
  }));
}

interface PeriodEvent {
  readonly period: string;
  readonly start: string;
  readonly end: string;
  readonly e: ListenerEvent;
}

/**
 * Every event in each Wrapped period it falls in, by its local date: all_time, year_YYYY, and the last 182 and
 * 28 days up to the latest local date in the data (the anchor).
 */
export function wrappedPeriods(events: readonly SilverEvent[]): PeriodEvent[] {
  const es = withSessions(events);
  if (es.length === 0) return [];
  const dates = es.map((e) => e.local_date).sort();
  const first = dates[0] as string;
  const anchor = dates[dates.length - 1] as string;
  const daysBefore = (n: number): string => isoDate(Date.parse(anchor) - n * DAY);
  const out: PeriodEvent[] = [];
  for (const e of es) {
    const year = e.local_date.slice(0, 4);
    out.push({ period: 'all_time', start: first, end: anchor, e });
    out.push({ period: `year_${year}`, start: `${year}-01-01`, end: `${year}-12-31`, e });
    if (e.local_date >= daysBefore(181))
      out.push({ period: 'last_6_months', start: daysBefore(181), end: anchor, e });
    if (e.local_date >= daysBefore(27))
      out.push({ period: 'last_4_weeks', start: daysBefore(27), end: anchor, e });
  }
  return out;
}

export function wrappedEvents(events: readonly SilverEvent[]): Row[] {
  return wrappedPeriods(events).map(({ period, start, end, e }) => ({
    period,
    period_start_date: start,
    period_end_date: end,
    event_id: e.event_id,
    user_id: e.user_id,
    song_id: e.song_id,
    song_name: e.song_name,
    artist_name: e.artist_name,
    event_type: e.event_type,
    duration_ms: e.duration_ms,
    source: e.source,
    event_timestamp: e.event_timestamp,
    local_date: e.local_date,
    local_hour: localHour(e),
  }));
}

const perUserPeriod = (events: readonly SilverEvent[]): Map<string, PeriodEvent[]> =>
  groupBy(wrappedPeriods(events), (p) => `${p.e.user_id}|${p.period}`);

/** Top 5 by streams, then minutes, then name; only what has a stream in the period. */
function top<T extends { streams: number; minutes_listened: number }>(
  items: T[],
  tieBreak: (a: T, b: T) => number,
): (T & { rank: number })[] {
  return items
    .filter((i) => i.streams > 0)
    .sort((a, b) => b.streams - a.streams || b.minutes_listened - a.minutes_listened || tieBreak(a, b))
    .slice(0, 5)
    .map((item, i) => ({ ...item, rank: i + 1 }));
}

export function userWrappedTop(events: readonly SilverEvent[]): Row[] {
  const out: Row[] = [];
  for (const ps of perUserPeriod(events).values()) {
    const { period, e: first } = ps[0] as PeriodEvent;
    const es = ps.map((p) => p.e);
    const artists = [...groupBy(es, (e) => e.artist_name)].map(([artist, group]) => ({
      artist_name: artist,
      streams: streams(group),
      minutes_listened: minutes(group),
    }));
    for (const a of top(artists, (x, y) => cmp(x.artist_name, y.artist_name))) {
      out.push({ user_id: first.user_id, period, kind: 'artist', song_id: null, song_name: null, ...a });
    }
    const tracks = [...groupBy(es, (e) => e.song_id)].map(([song, group]) => ({
      song_id: song,
      song_name: group.map((e) => e.song_name).sort(cmp)[0] as string,
      artist_name: group.map((e) => e.artist_name).sort(cmp)[0] as string,
      streams: streams(group),
      minutes_listened: minutes(group),
    }));
    const byName = (x: (typeof tracks)[number], y: (typeof tracks)[number]): number =>
      cmp(x.song_name, y.song_name) || cmp(x.song_id, y.song_id);
    for (const t of top(tracks, byName)) out.push({ user_id: first.user_id, period, kind: 'track', ...t });
  }
  return out;
}

export function userWrapped(events: readonly SilverEvent[]): Row[] {
  const tops = new Map(
    userWrappedTop(events)
      .filter((r) => r.rank === 1)
      .map((r) => [`${r.user_id}|${r.period}|${r.kind}`, r]),
  );
  const out: Row[] = [];
  for (const [key, ps] of perUserPeriod(events)) {
    const es = ps.map((p) => p.e);
    if (plays(es) === 0) continue;
    const { period, start, end, e: first } = ps[0] as PeriodEvent;
    const times = es.map((e) => e.ts);
    out.push({
      user_id: first.user_id,
      period,
      period_start_date: start,
      period_end_date: end,
      plays: plays(es),
      streams: streams(es),
      minutes_listened: minutes(es),
      distinct_songs: distinctPlayed(es, (e) => e.song_id),
      distinct_artists: distinctPlayed(es, (e) => e.artist_name),
      top_artist_name: tops.get(`${key}|artist`)?.artist_name ?? null,
      top_song_id: tops.get(`${key}|track`)?.song_id ?? null,
      top_song_name: tops.get(`${key}|track`)?.song_name ?? null,
      first_event_at: new Date(Math.min(...times)).toISOString(),
      last_event_at: new Date(Math.max(...times)).toISOString(),
    });
  }
  return out;
}

export function userWrappedClock(events: readonly SilverEvent[]): Row[] {
  const played = wrappedPeriods(events).filter((p) => isPlay(p.e));
  return [...groupBy(played, (p) => `${p.e.user_id}|${p.period}|${localHour(p.e)}`)].map(([, ps]) => {
    const es = ps.map((p) => p.e);
    return {
      user_id: (es[0] as ListenerEvent).user_id,
      period: (ps[0] as PeriodEvent).period,
      local_hour: localHour(es[0] as ListenerEvent),
      plays: es.length,
      streams: streams(es),
      minutes_listened: minutes(es),
    };
  });
}

const albumKey = (e: { readonly artist_name?: unknown; readonly album_name?: unknown }): string =>
  `${String(e.artist_name)}\u0000${String(e.album_name)}`;

export function trackCatalog(events: readonly SilverEvent[]): Row[] {
  const withAlbum = events.filter((e) => e.album_name !== null);
  return [...groupBy(withAlbum, (e) => `${albumKey(e)}\u0000${e.song_id}`)].map(([, es]) => {
    const lengths = es.map((e) => e.track_length_ms).filter((l): l is number => l !== null);
    return {
      artist_name: (es[0] as SilverEvent).artist_name,
      album_name: (es[0] as SilverEvent).album_name,
      song_id: (es[0] as SilverEvent).song_id,
      song_name: es.map((e) => e.song_name).sort(cmp)[0] as string,
      track_length_ms: lengths.length > 0 ? Math.max(...lengths) : null,
    };
  });
}

/** A play through: at least 90 % of the track's length listened (both known). */
export const isFullPlay = (listened: number | null, length: number | null): boolean =>
  listened !== null && length !== null && 10 * listened >= 9 * length;

export function albumCompletion(events: readonly SilverEvent[]): Row[] {
  const catalog = trackCatalog(events);
  const lengths = new Map(
    catalog.map((t) => [`${albumKey(t)}\u0000${String(t.song_id)}`, t.track_length_ms]),
  );
  const albumTracks = new Map([...groupBy(catalog, (t) => albumKey(t))].map(([k, ts]) => [k, ts.length]));
  const played = events.filter((e) => isPlay(e) && e.album_name !== null);
  return [...groupBy(played, (e) => `${e.user_id}\u0000${albumKey(e)}`)].map(([, es]) => {
    const first = es[0] as SilverEvent;
    const tracks = albumTracks.get(albumKey(first)) as number;
    const completed = new Set(
      es
        .filter((e) =>
          isFullPlay(e.duration_ms, lengths.get(`${albumKey(e)}\u0000${e.song_id}`) as number | null),
        )
        .map((e) => e.song_id),
    ).size;
    return {
      user_id: first.user_id,
      artist_name: first.artist_name,
      album_name: first.album_name,
      album_tracks: tracks,
      tracks_played: new Set(es.map((e) => e.song_id)).size,
      tracks_completed: completed,
      completion_rate: completed / tracks,
    };
  });
}
