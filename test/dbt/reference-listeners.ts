/** The independent computation of the listener marts (docs/data-model.md, "Listeners"). */
import {
  cmp,
  groupBy,
  isPlay,
  listeners,
  minutes,
  plays,
  rate,
  skipReportedPlays,
  skips,
  type Row,
  type SilverEvent,
} from './reference-core.ts';
import { userTopArtists, userTopTracks } from './reference-charts.ts';

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
