/** The independent computation of the chart marts (docs/data-model.md, "Charts"). */
import {
  groupBy,
  hourSpine,
  isPlay,
  listeners,
  minOf,
  minutes,
  plays,
  rankedByStreams,
  skipRate,
  skips,
  SKIP_REPORTING,
  streams,
  type Row,
  type SilverEvent,
} from './reference-core.ts';

export function playsPerHour(events: readonly SilverEvent[]): Row[] {
  const byHour = groupBy(events, (e) => e.event_hour);
  return hourSpine([...byHour.keys()]).map((hour) => {
    const es = byHour.get(hour) ?? [];
    return {
      hour_start: hour,
      events: es.length,
      plays: plays(es),
      streams: streams(es),
      skips: skips(es),
      listeners: listeners(es),
      minutes_listened: minutes(es),
    };
  });
}

/** The daily charts rank only what was streamed that day. */
const streamed = (item: { streams: number }): boolean => item.streams > 0;

/** What a chart row of a group of events counts. */
const counts = (es: readonly SilverEvent[]) => ({
  streams: streams(es),
  plays: plays(es),
  minutes_listened: minutes(es),
  listeners: listeners(es),
});

/** A day's counts of a song or artist in track_days / artist_days: summable over any range of days. */
function dayCounts(es: readonly SilverEvent[]): Row {
  const reported = es.filter((e) => SKIP_REPORTING.has(e.source));
  return {
    events: es.length,
    ...counts(es),
    skips: skips(es),
    reported_skips: skips(reported),
    reported_plays_and_skips: plays(reported) + skips(reported),
  };
}

export function trackDays(events: readonly SilverEvent[]): Row[] {
  const out: Row[] = [];
  for (const [date, es] of groupBy(events, (e) => e.event_date)) {
    for (const [song, ses] of groupBy(es, (e) => e.song_id)) {
      out.push({
        event_date: date,
        song_id: song,
        song_name: minOf(ses.map((e) => e.song_name)),
        artist_name: minOf(ses.map((e) => e.artist_name)),
        ...dayCounts(ses),
      });
    }
  }
  return out;
}

export function artistDays(events: readonly SilverEvent[]): Row[] {
  const out: Row[] = [];
  for (const [date, es] of groupBy(events, (e) => e.event_date)) {
    for (const [artist, aes] of groupBy(es, (e) => e.artist_name)) {
      out.push({ event_date: date, artist_name: artist, ...dayCounts(aes) });
    }
  }
  return out;
}

export function topTracksDaily(events: readonly SilverEvent[]): Row[] {
  const out: Row[] = [];
  for (const [date, es] of groupBy(events, (e) => e.event_date)) {
    const songs = [...groupBy(es, (e) => e.song_id)].map(([song, ses]) => ({
      name: song,
      song_name: minOf(ses.map((e) => e.song_name)),
      artist_name: minOf(ses.map((e) => e.artist_name)),
      ...counts(ses),
    }));
    for (const { name, rank, ...s } of rankedByStreams(songs.filter(streamed), 100)) {
      out.push({ event_date: date, rank, song_id: name, ...s });
    }
  }
  return out;
}

export function topArtistsDaily(events: readonly SilverEvent[]): Row[] {
  const out: Row[] = [];
  for (const [date, es] of groupBy(events, (e) => e.event_date)) {
    const artists = [...groupBy(es, (e) => e.artist_name)].map(([name, aes]) => ({ name, ...counts(aes) }));
    for (const { name, rank, ...a } of rankedByStreams(artists.filter(streamed), 100)) {
      out.push({ event_date: date, rank, artist_name: name, ...a });
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
    streams: streams(es),
    skips: skips(es),
    skip_rate: skipRate(es),
  }));
}

export function artistSkipRates(events: readonly SilverEvent[]): Row[] {
  return [...groupBy(events, (e) => e.artist_name)].map(([artist, es]) => ({
    artist_name: artist,
    plays: plays(es),
    streams: streams(es),
    skips: skips(es),
    skip_rate: skipRate(es),
  }));
}

const share = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);

/**
 * A mix of the events whose `dim` is known: an unknown (null) one is left out, also of the day's totals; the
 * shares are of the day's plays and minutes listened with a known `dim`.
 */
function mix(events: readonly SilverEvent[], dim: 'device_type' | 'country'): Row[] {
  const out: Row[] = [];
  const known = events.filter((e) => e[dim] !== null);
  for (const [date, es] of groupBy(known, (e) => e.event_date)) {
    const dayPlays = plays(es);
    const dayMinutes = minutes(es);
    for (const [value, des] of groupBy(es, (e) => e[dim] as string)) {
      out.push({
        event_date: date,
        [dim]: value,
        events: des.length,
        plays: plays(des),
        streams: streams(des),
        minutes_listened: minutes(des),
        listeners: listeners(des),
        share_of_plays: share(plays(des), dayPlays),
        share_of_minutes: share(minutes(des), dayMinutes),
      });
    }
  }
  return out;
}
export const deviceMix = (events: readonly SilverEvent[]): Row[] => mix(events, 'device_type');
export const countryMix = (events: readonly SilverEvent[]): Row[] => mix(events, 'country');

/** The percentile bands of songs by streams: a song is in the first band whose percent exceeds its position. */
const BANDS: readonly [string, number][] = [
  ['top 1%', 1],
  ['top 1-5%', 5],
  ['top 5-20%', 20],
  ['top 20-50%', 50],
  ['bottom 50%', Infinity],
];

/**
 * Songs with a play, banded by the share of songs with strictly more streams than each (so equal streams
 * share a band): fewer than 1% of the songs above it -> 'top 1%', fewer than 5% -> 'top 1-5%', and so on.
 */
export function songPopularityDistribution(events: readonly SilverEvent[]): Row[] {
  const perSong = [...groupBy(events.filter(isPlay), (e) => e.song_id).values()].map((es) => ({
    plays: es.length,
    streams: streams(es),
  }));
  const n = perSong.length;
  const totalPlays = perSong.reduce((a, s) => a + s.plays, 0);
  const totalStreams = perSong.reduce((a, s) => a + s.streams, 0);
  const out: Row[] = [];
  const bandOf = (song: { streams: number }): number => {
    const above = perSong.filter((s) => s.streams > song.streams).length;
    return BANDS.findIndex(([, percent]) => 100 * above < percent * n);
  };
  const banded = groupBy(perSong, (s) => String(bandOf(s)));
  BANDS.forEach(([label], i) => {
    const songs = banded.get(String(i));
    if (!songs) return;
    const bandPlays = songs.reduce((a, s) => a + s.plays, 0);
    const bandStreams = songs.reduce((a, s) => a + s.streams, 0);
    out.push({
      bucket: label,
      bucket_order: i + 1,
      songs: songs.length,
      streams: bandStreams,
      plays: bandPlays,
      share_of_streams: share(bandStreams, totalStreams),
      share_of_plays: bandPlays / totalPlays,
    });
  });
  return out;
}

/**
 * A user's plays grouped by `key`, ranked by streams, then minutes listened, then the key (no listeners);
 * every group with a play is ranked, streamed or not, so a listener with plays has a top entry.
 */
function userTop(
  events: readonly SilverEvent[],
  key: (e: SilverEvent) => string,
): { user: string; rank: number; name: string; es: SilverEvent[] }[] {
  const out: { user: string; rank: number; name: string; es: SilverEvent[] }[] = [];
  for (const [user, es] of groupBy(events.filter(isPlay), (e) => e.user_id)) {
    const groups = [...groupBy(es, key)].map(([name, ges]) => ({
      name,
      es: ges,
      streams: streams(ges),
      minutes_listened: minutes(ges),
    }));
    for (const g of rankedByStreams(groups, 5)) out.push({ user, rank: g.rank, name: g.name, es: g.es });
  }
  return out;
}

export function userTopArtists(events: readonly SilverEvent[]): Row[] {
  return userTop(events, (e) => e.artist_name).map(({ user, rank, name, es }) => ({
    user_id: user,
    rank,
    artist_name: name,
    streams: streams(es),
    plays: es.length,
    minutes_listened: minutes(es),
  }));
}

export function userTopTracks(events: readonly SilverEvent[]): Row[] {
  return userTop(events, (e) => e.song_id).map(({ user, rank, name, es }) => ({
    user_id: user,
    rank,
    song_id: name,
    song_name: minOf(es.map((e) => e.song_name)),
    artist_name: minOf(es.map((e) => e.artist_name)),
    streams: streams(es),
    plays: es.length,
    minutes_listened: minutes(es),
  }));
}
