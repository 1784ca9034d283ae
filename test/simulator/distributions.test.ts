import { describe, expect, it } from 'vitest';
import { DAILY_RHYTHM, HOME_COUNTRIES, buildCatalog } from '../../lambdas/core/simulator/catalog.ts';
import { Prng } from '../../lambdas/core/simulator/prng.ts';
import { simulate } from '../../lambdas/core/simulator/index.ts';
import { END, eventOf, hoursBefore, type SimulatedEvent as ListeningEvent } from './helpers.ts';

// One realistic run shared by the checks below: 100k events over two days, the default population and catalog.
const events: ListeningEvent[] = [
  ...simulate({ seed: 2026, events: 100_000, start: hoursBefore(48), end: END }).records(),
].map(eventOf);
const plays = events.filter((e) => e.event_type === 'play');

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

describe('simulated listening looks like listening', () => {
  it('gives the top 1% of songs a large share of plays (Zipf-like popularity)', () => {
    // Act
    const perSong = [...countBy(plays, (e) => e.song_id).values()].sort((a, b) => b - a);
    const top = perSong.slice(0, Math.ceil(5000 / 100)).reduce((a, b) => a + b, 0);
    // Assess: uniform popularity would give the top 1% about 1% of plays.
    expect(top / plays.length).toBeGreaterThan(0.25);
    expect(perSong.length).toBeGreaterThan(1000);
  });

  it('skips some songs far more often than others', () => {
    // Prepare
    const playsBySong = countBy(plays, (e) => e.song_id);
    const skipsBySong = countBy(
      events.filter((e) => e.event_type === 'skip'),
      (e) => e.song_id,
    );
    const songs = [...playsBySong]
      .filter(([, n]) => n >= 150)
      .map(([id, n]) => ({ n, skips: skipsBySong.get(id) ?? 0 }));
    const totalPlays = songs.reduce((a, s) => a + s.n, 0);
    const overall = songs.reduce((a, s) => a + s.skips, 0) / totalPlays;
    // Act: chi-square of "every song has the same skip rate"; with one rate it is about 1 per degree of freedom.
    const chi2 = songs.reduce(
      (a, s) => a + (s.skips - s.n * overall) ** 2 / (s.n * overall * (1 - overall)),
      0,
    );
    const rates = songs.map((s) => s.skips / s.n);
    // Assess
    expect(songs.length).toBeGreaterThan(20);
    expect(chi2 / (songs.length - 1)).toBeGreaterThan(5);
    expect(Math.max(...rates) - Math.min(...rates)).toBeGreaterThan(0.2);
  });

  it("groups each user's events into sessions: runs with short gaps, separated by long ones", () => {
    // Prepare
    const byUser = new Map<string, number[]>();
    for (const e of events) {
      const list = byUser.get(e.user_id) ?? [];
      list.push(Date.parse(e.timestamp));
      byUser.set(e.user_id, list);
    }
    const sessionLengths: number[] = [];
    const gapsInSession: number[] = [];
    let usersWithSeveralSessions = 0;
    // Act: the Gold definition, a new session after a gap of more than 30 minutes.
    for (const times of byUser.values()) {
      times.sort((a, b) => a - b);
      let length = 1;
      let sessions = 1;
      for (let i = 1; i < times.length; i++) {
        const gap = times[i]! - times[i - 1]!;
        if (gap > 30 * 60_000) {
          sessionLengths.push(length);
          length = 1;
          sessions++;
        } else {
          gapsInSession.push(gap);
          length++;
        }
      }
      sessionLengths.push(length);
      if (sessions > 1) usersWithSeveralSessions++;
    }
    // Assess
    expect(median(sessionLengths)).toBeGreaterThanOrEqual(4);
    expect(sessionLengths.filter((n) => n >= 10).length).toBeGreaterThan(1000);
    expect(median(gapsInSession)).toBeLessThan(5 * 60_000);
    expect(usersWithSeveralSessions).toBeGreaterThan(500);
  });

  it("follows a daily rhythm in the listener's local time", () => {
    // Prepare: users of countries with one time zone, so their local hour is known.
    const offsets = new Map(
      HOME_COUNTRIES.filter((c) => c.offsets.length === 1).map((c) => [c.code, c.offsets[0]!]),
    );
    const perLocalHour = new Array<number>(24).fill(0);
    // Act
    for (const e of events) {
      const offset = offsets.get(e.country);
      if (offset === undefined) continue;
      const local = new Date(Date.parse(e.timestamp) + offset * 60_000);
      perLocalHour[local.getUTCHours()]!++;
    }
    // Assess: the quietest hours of the rhythm get far fewer events than the busiest ones.
    const night = perLocalHour[3]! + perLocalHour[4]!;
    const evening = perLocalHour[19]! + perLocalHour[20]!;
    expect(DAILY_RHYTHM[4]).toBeLessThan(DAILY_RHYTHM[19]!);
    expect(night / evening).toBeLessThan(0.4);
  });

  it('has every event type, a device mix led by mobile, and one home country per user', () => {
    // Act
    const types = countBy(events, (e) => e.event_type);
    const devices = countBy(events, (e) => e.device_type);
    const countriesPerUser = new Map<string, Set<string>>();
    for (const e of events)
      countriesPerUser.set(e.user_id, (countriesPerUser.get(e.user_id) ?? new Set()).add(e.country));
    // Assess
    expect([...types.keys()].sort()).toEqual(['add_to_playlist', 'pause', 'play', 'skip']);
    expect(types.get('play')!).toBeGreaterThan(events.length / 2);
    expect(devices.get('mobile')!).toBeGreaterThan(devices.get('desktop')!);
    expect(devices.get('desktop')!).toBeGreaterThan(devices.get('web')!);
    expect([...countriesPerUser.values()].every((s) => s.size === 1)).toBe(true);
    expect(new Set(events.map((e) => e.country)).size).toBeGreaterThan(20);
  });

  it('puts each song on one album of its artist, with one track length, and several albums on big artists', () => {
    // Act
    const albumOf = new Map<string, Set<string>>();
    const lengthOf = new Map<string, Set<number>>();
    const albumsOfArtist = new Map<string, Set<string>>();
    const artistsOfAlbum = new Map<string, Set<string>>();
    for (const e of events) {
      albumOf.set(e.song_id, (albumOf.get(e.song_id) ?? new Set()).add(e.album_name));
      lengthOf.set(e.song_id, (lengthOf.get(e.song_id) ?? new Set()).add(e.track_length_ms));
      albumsOfArtist.set(e.artist_name, (albumsOfArtist.get(e.artist_name) ?? new Set()).add(e.album_name));
      const album = `${e.artist_name}\u0000${e.album_name}`;
      artistsOfAlbum.set(album, (artistsOfAlbum.get(album) ?? new Set()).add(e.song_id));
    }
    // Assess
    expect([...albumOf.values()].every((a) => a.size === 1)).toBe(true);
    expect([...lengthOf.values()].every((l) => l.size === 1)).toBe(true);
    const mostAlbums = Math.max(...[...albumsOfArtist.values()].map((a) => a.size));
    expect(mostAlbums).toBeGreaterThan(2);
    // An album holds several tracks, not one song each.
    const tracksPerAlbum = median([...artistsOfAlbum.values()].map((s) => s.size));
    expect(tracksPerAlbum).toBeGreaterThan(1);
  });

  it("builds albums per artist: each song's album is one of its own artist's, every artist has one", () => {
    // Act
    const catalog = buildCatalog(new Prng(7, 0), 5_000, new Prng(7, 4));
    // Assess
    expect(catalog.songs.every((song) => catalog.albums[song.album]!.artist === song.artist)).toBe(true);
    const withAlbum = new Set(catalog.albums.map((a) => a.artist));
    expect(withAlbum.size).toBe(catalog.artists.length);
    expect(catalog.albums.length).toBeGreaterThan(catalog.artists.length);
    expect(catalog.albums.length).toBeLessThan(catalog.songs.length / 2);
  });

  it('never listens longer than the track: duration_ms <= track_length_ms, full plays equal to it', () => {
    // Act
    const over = events.filter((e) => e.duration_ms > e.track_length_ms);
    const full = plays.filter((e) => e.duration_ms === e.track_length_ms).length;
    // Assess
    expect(over).toEqual([]);
    expect(full / plays.length).toBeGreaterThan(0.3);
    expect(Math.min(...events.map((e) => e.track_length_ms))).toBeGreaterThanOrEqual(60_000);
  });

  it('listens to full songs and skips after a few seconds', () => {
    // Act
    const played = median(plays.map((e) => e.duration_ms));
    const skipped = median(events.filter((e) => e.event_type === 'skip').map((e) => e.duration_ms));
    // Assess
    expect(skipped).toBeLessThan(60_000);
    expect(played).toBeGreaterThan(120_000);
  });

  it('plays runs of one artist (albums, artist radio), which Gold reports as artist streaks', () => {
    // Prepare
    const byUser = new Map<string, ListeningEvent[]>();
    for (const e of plays) {
      const list = byUser.get(e.user_id) ?? [];
      list.push(e);
      byUser.set(e.user_id, list);
    }
    // Act
    let streaks = 0;
    for (const list of byUser.values()) {
      let run = 1;
      for (let i = 1; i < list.length; i++) {
        run = list[i]!.artist_name === list[i - 1]!.artist_name ? run + 1 : 1;
        if (run === 3) streaks++;
      }
    }
    // Assess
    expect(streaks).toBeGreaterThan(50);
  });
});
