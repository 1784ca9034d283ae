/** The independent computation of the chart marts (docs/data-model.md, "Charts"). */
import {
  groupBy,
  isPlay,
  listeners,
  minOf,
  minutes,
  plays,
  rate,
  ranked,
  skipReportedPlays,
  skips,
  type Row,
  type SilverEvent,
} from './reference-core.ts';

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
