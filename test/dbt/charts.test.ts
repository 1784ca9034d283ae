/**
 * The chart marts' definitions on a handful of events built to tell them apart from simpler ones: ranks by
 * streams with the minutes and listeners tie-breaks, the hour spine over empty hours, a skip rate whose play
 * was quarantined, shares of plays rather than of events, and percentile bands with ties at an edge. Each
 * case states the expected rows outright, and every chart mart equals the independent computation too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListeningEventV2 } from '../../lambdas/core/contract.ts';
import { runDbt, type DbtRunResult } from '../../localstack/dbt/index.ts';
import { insertBronze, type BronzeRow } from './dataset.ts';
import {
  buildProject,
  DBT_PROJECT,
  diffRows,
  unsuccessful,
  readTable,
  tempWarehouse,
  type TempWarehouse,
} from './helpers.ts';
import {
  artistSkipRates,
  countryMix,
  deviceMix,
  playsPerHour,
  songPopularityDistribution,
  songSkipRates,
  topArtistsDaily,
  topTracksDaily,
  userTopArtists,
  userTopTracks,
} from './reference-charts.ts';
import { GOLD, silver, type Row, type SilverEvent } from './reference.ts';

const DAY = '2026-05-01';
const ARTIST: Record<string, string> = {
  a1: 'Alpha',
  b1: 'Beta',
  c1: 'Delta',
  g1: 'Gamma',
  g2: 'Gamma',
  s1: 'Epsilon',
  w1: 'Omega',
  z1: 'Zeta',
};

let offset = 0;
/** One Bronze row: a simulator event on mobile in SE unless `over` says otherwise. */
function row(
  user: string,
  song: string,
  type: ListeningEventV2['event_type'],
  time: string,
  seconds: number | null,
  over: Partial<ListeningEventV2> = {},
): BronzeRow {
  const timestamp = `${DAY}T${time}.000Z`;
  offset += 1;
  const event: ListeningEventV2 = {
    event_id: `e${String(offset).padStart(4, '0')}`,
    user_id: user,
    song_id: song,
    artist_name: ARTIST[song] as string,
    song_name: `Song ${song}`,
    album_name: null,
    track_length_ms: 240_000,
    event_type: type,
    device_type: 'mobile',
    country: 'SE',
    timestamp,
    duration_ms: seconds === null ? null : seconds * 1000,
    source: 'simulator',
    schema_version: 2,
    ...over,
  };
  const hour = Math.floor(Date.parse(timestamp) / 3_600_000) * 3_600_000;
  return {
    ...event,
    kafka_partition: 0,
    kafka_offset: offset,
    kafka_timestamp: timestamp,
    loaded_at: new Date(hour + 3_600_000).toISOString(),
    source_file: 'bronze/charts.ndjson.gz',
    source_row: offset,
  };
}

const desktop = { device_type: 'desktop' } as const;
const ROWS: BronzeRow[] = [
  // Hour 00. Alpha and Beta: 2 streams each; Beta has more minutes, so it ranks first (not alphabetically).
  row('u1', 'a1', 'play', '00:00:00', 60),
  row('u1', 'a1', 'play', '00:05:00', 60),
  row('u2', 'b1', 'play', '00:10:00', 200, desktop),
  row('u2', 'b1', 'play', '00:15:00', 200, desktop),
  // Pauses are events, not plays: desktop has a third of the known-device events, a seventh of the plays.
  ...['00:11:00', '00:12:00', '00:13:00', '00:14:00', '00:16:00'].map((t) =>
    row('u2', 'b1', 'pause', t, 10, desktop),
  ),
  // g1 and g2: 2 streams and 200 s each; g2 has two listeners, so it ranks first (not by song_id).
  row('u3', 'g1', 'play', '00:20:00', 100),
  row('u3', 'g1', 'play', '00:25:00', 100),
  row('u3', 'g2', 'play', '00:30:00', 100),
  row('u4', 'g2', 'play', '00:35:00', 100),
  // Three plays of 10 s: plays, no stream; ranked by plays they would top the day.
  row('u5', 'c1', 'play', '00:40:00', 10),
  row('u5', 'c1', 'play', '00:41:00', 10),
  row('u5', 'c1', 'play', '00:42:00', 10),
  // Hours 01 and 02 have no events. Hour 03: s1 is played once and skipped twice (one play quarantined).
  row('u6', 's1', 'play', '03:00:00', 20),
  row('u6', 's1', 'skip', '03:00:20', 20),
  row('u6', 's1', 'skip', '03:10:00', 5),
  // u1's Zeta: 2 streams like Alpha but more minutes, so u1's first artist is Zeta.
  row('u1', 'z1', 'play', '03:20:00', 150),
  row('u1', 'z1', 'play', '03:25:00', 150),
  // A Web API play: a stream of unknown duration, no device, no country, no skips reported.
  row('api', 'w1', 'play', '03:30:00', null, { device_type: null, country: null, source: 'spotify_api' }),
];

describe('chart marts on events built for their definitions', () => {
  let wh: TempWarehouse;
  let build: DbtRunResult;
  let events: SilverEvent[];
  const gold = (table: string): Promise<Row[]> => readTable(wh.connection, `gold.${table}`);
  const pick = (rows: Row[], columns: string[]): Row[] =>
    rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? null])));
  const test = (select: string[]) =>
    runDbt({
      projectDir: DBT_PROJECT,
      connection: wh.connection,
      command: 'test',
      select,
      targetDir: wh.dir,
    });

  beforeAll(async () => {
    wh = await tempWarehouse();
    await insertBronze(wh.connection, ROWS);
    events = silver(ROWS);
    build = await buildProject(wh);
  });
  afterAll(async () => wh?.close());

  it('builds every model and passes every test', () => {
    expect(unsuccessful(build)).toEqual([]);
  });

  it('ranks the day by streams, then minutes, then listeners, then name; unstreamed songs are not ranked', async () => {
    const artists = (await gold('top_artists_daily')).sort((a, b) => Number(a.rank) - Number(b.rank));
    expect(pick(artists, ['rank', 'artist_name', 'streams', 'plays', 'listeners'])).toEqual([
      { rank: 1, artist_name: 'Gamma', streams: 4, plays: 4, listeners: 2 },
      { rank: 2, artist_name: 'Beta', streams: 2, plays: 2, listeners: 1 },
      { rank: 3, artist_name: 'Zeta', streams: 2, plays: 2, listeners: 1 },
      { rank: 4, artist_name: 'Alpha', streams: 2, plays: 2, listeners: 1 },
      { rank: 5, artist_name: 'Omega', streams: 1, plays: 1, listeners: 1 },
    ]);
    const tracks = (await gold('top_tracks_daily')).sort((a, b) => Number(a.rank) - Number(b.rank));
    expect(tracks.map((t) => t.song_id)).toEqual(['b1', 'z1', 'g2', 'g1', 'a1', 'w1']);
    expect(tracks.find((t) => t.song_id === 'b1')?.minutes_listened).toBeCloseTo(400 / 60, 9);
  });

  it("ranks a listener's top 5 by streams, then minutes; a listener with plays but no stream still has one", async () => {
    const artists = await gold('user_top_artists');
    const u1 = artists.filter((r) => r.user_id === 'u1').sort((a, b) => Number(a.rank) - Number(b.rank));
    expect(pick(u1, ['rank', 'artist_name', 'streams'])).toEqual([
      { rank: 1, artist_name: 'Zeta', streams: 2 },
      { rank: 2, artist_name: 'Alpha', streams: 2 },
    ]);
    expect(
      pick(
        artists.filter((r) => r.user_id === 'u5'),
        ['rank', 'artist_name', 'streams', 'plays'],
      ),
    ).toEqual([{ rank: 1, artist_name: 'Delta', streams: 0, plays: 3 }]);
  });

  it('has a row for every hour from the first to the last, zeros in the empty ones', async () => {
    const hours = (await gold('plays_per_hour')).sort((a, b) =>
      String(a.hour_start).localeCompare(String(b.hour_start)),
    );
    expect(
      pick(hours, ['hour_start', 'events', 'plays', 'streams', 'listeners', 'minutes_listened']),
    ).toEqual([
      {
        hour_start: `${DAY}T00:00:00.000Z`,
        events: 16,
        plays: 11,
        streams: 8,
        listeners: 5,
        minutes_listened: 950 / 60,
      },
      {
        hour_start: `${DAY}T01:00:00.000Z`,
        events: 0,
        plays: 0,
        streams: 0,
        listeners: 0,
        minutes_listened: 0,
      },
      {
        hour_start: `${DAY}T02:00:00.000Z`,
        events: 0,
        plays: 0,
        streams: 0,
        listeners: 0,
        minutes_listened: 0,
      },
      {
        hour_start: `${DAY}T03:00:00.000Z`,
        events: 6,
        plays: 4,
        streams: 3,
        listeners: 3,
        minutes_listened: 320 / 60,
      },
    ]);
  });

  it('bounds a skip rate by its skips: two skips of one play are 2 of 3, not 200 %', async () => {
    const [song] = (await gold('song_skip_rates')).filter((r) => r.song_id === 's1');
    expect(pick([song as Row], ['plays', 'streams', 'skips', 'skip_rate'])).toEqual([
      { plays: 1, streams: 0, skips: 2, skip_rate: 2 / 3 },
    ]);
    // The Web API reports no skips: its song's rate is unknown, not 0.
    expect((await gold('song_skip_rates')).find((r) => r.song_id === 'w1')?.skip_rate).toBeNull();
  });

  it('shares the day among devices by plays and by minutes, not by events', async () => {
    const devices = (await gold('device_mix')).sort((a, b) =>
      String(a.device_type).localeCompare(String(b.device_type)),
    );
    // desktop: 2 of the 14 known-device plays (5 of its 7 events are pauses), 400 s of the 1,270 s.
    expect(pick(devices, ['device_type', 'events', 'plays', 'share_of_plays', 'share_of_minutes'])).toEqual([
      { device_type: 'desktop', events: 7, plays: 2, share_of_plays: 2 / 14, share_of_minutes: 400 / 1_270 },
      {
        device_type: 'mobile',
        events: 14,
        plays: 12,
        share_of_plays: 12 / 14,
        share_of_minutes: 870 / 1_270,
      },
    ]);
  });

  it('bands songs by the share of songs with more streams; equal streams share the higher band', async () => {
    const bands = (await gold('song_popularity_distribution')).sort(
      (a, b) => Number(a.bucket_order) - Number(b.bucket_order),
    );
    // Five songs tie at 2 streams: no song has more, so all five are in the top 1 % (of 8 songs).
    expect(pick(bands, ['bucket', 'songs', 'streams', 'plays', 'share_of_streams'])).toEqual([
      { bucket: 'top 1%', songs: 5, streams: 10, plays: 10, share_of_streams: 10 / 11 },
      { bucket: 'bottom 50%', songs: 3, streams: 1, plays: 5, share_of_streams: 1 / 11 },
    ]);
  });

  it('every chart mart equals the independent computation on these events', async () => {
    const marts: [string, (e: readonly SilverEvent[]) => Row[], string[]][] = [
      ['plays_per_hour', playsPerHour, ['hour_start']],
      ['top_tracks_daily', topTracksDaily, ['event_date', 'song_id']],
      ['top_artists_daily', topArtistsDaily, ['event_date', 'artist_name']],
      ['song_skip_rates', songSkipRates, ['song_id']],
      ['artist_skip_rates', artistSkipRates, ['artist_name']],
      ['device_mix', deviceMix, ['event_date', 'device_type']],
      ['country_mix', countryMix, ['event_date', 'country']],
      ['song_popularity_distribution', songPopularityDistribution, ['bucket']],
      ['user_top_artists', userTopArtists, ['user_id', 'rank']],
      ['user_top_tracks', userTopTracks, ['user_id', 'rank']],
    ];
    for (const [table, compute, key] of marts) {
      expect(diffRows(await gold(table), compute(events), key), table).toEqual([]);
    }
  });

  it('the rate and spine tests fail on a skip rate above 1 and on a missing hour', async () => {
    await wh.connection.run(`update gold.song_skip_rates set skip_rate = 2.0 where song_id = 's1'`);
    await wh.connection.run(`delete from gold.plays_per_hour where hour_start = timestamp '${DAY} 01:00:00'`);
    const result = await test([
      'assert_chart_rates_within_zero_and_one',
      'assert_plays_per_hour_has_every_hour',
    ]);
    expect(result.success).toBe(false);
    expect(
      result.runResults.results
        .filter((r) => r.status === 'fail')
        .map((r) => [r.unique_id, r.failures])
        .sort(),
    ).toEqual([
      ['test.spotify_mds.assert_chart_rates_within_zero_and_one', 1],
      ['test.spotify_mds.assert_plays_per_hour_has_every_hour', 1],
    ]);
  });
});

/** A play of a track of album "Al" by Alpha, loaded at `loadHour` o'clock. */
function albumRow(
  loadHour: number,
  user: string,
  song: string,
  time: string,
  seconds: number | null,
  over: Partial<ListeningEventV2> = {},
): BronzeRow {
  return {
    ...row(user, 'a1', 'play', time, seconds, {
      song_id: song,
      song_name: `Song ${song}`,
      album_name: 'Al',
      track_length_ms: 200_000,
      ...over,
    }),
    loaded_at: `${DAY}T${String(loadHour).padStart(2, '0')}:00:00.000Z`,
  };
}

/** An unrelated load between two: the rows of the load before it are then older than the next build's cut. */
const tick = (loadHour: number): BronzeRow[] => [
  {
    ...row('ut', 'z1', 'play', '00:50:00', 60),
    loaded_at: `${DAY}T${String(loadHour).padStart(2, '0')}:00:00.000Z`,
  },
];

/**
 * Loads made for the edges of the incremental catalog, album completion and daily marts, each two builds after
 * the one it changes (a load's rows are within the next build's lookback): a track's length first known later
 * (a listener's earlier play becomes a play through, though the listener has no new row), a shorter length
 * and a greater name than the stored ones (the catalog keeps its own), a track the album gains (every
 * listener's album_tracks grows), a late event on the day before.
 */
const ALBUM_LOADS: BronzeRow[][] = [
  [
    albumRow(2, 'u1', 't1', '00:00:00', 195),
    albumRow(2, 'u1', 't2', '00:05:00', 100),
    albumRow(2, 'u2', 't1', '00:10:00', 150),
    // No source knows the length of t3 (of another album) yet: u3's 180 s are not a play through.
    albumRow(2, 'u3', 't3', '00:20:00', 180, { album_name: 'Bl', track_length_ms: null }),
    albumRow(2, 'u4', 't5', '00:30:00', 60, { song_name: 'M' }),
  ],
  tick(6),
  [
    // t3's length arrives (190 s): u3's earlier 180 s are now a play through.
    albumRow(10, 'u5', 't3', '05:00:00', 10, {
      album_name: 'Bl',
      event_type: 'skip',
      track_length_ms: 190_000,
    }),
    // A shorter length of t1 and a greater name of t5 than the catalog's: the catalog keeps its own.
    albumRow(10, 'u6', 't1', '05:10:00', 30, { track_length_ms: 100_000 }),
    albumRow(10, 'u6', 't5', '05:20:00', 30, { song_name: 'Z' }),
    // A track the album gains: u1's and u2's album_tracks grow, though neither has a new row.
    albumRow(10, 'u7', 't6', '05:30:00', 200),
  ],
  tick(14),
  [
    // Late: u1 played t2 through on the day before, loaded only now.
    albumRow(18, 'u1', 't2', '23:00:00', 199, { timestamp: '2026-04-30T23:00:00.000Z' }),
    albumRow(18, 'u2', 't2', '10:00:00', 50),
  ],
];

describe('incremental catalog, album completion and daily marts, load by load', () => {
  let wh: TempWarehouse;
  const marts = ['track_catalog', 'album_completion', 'track_days', 'artist_days', 'song_skip_rates'];
  const build = (fullRefresh = false) => buildProject(wh, fullRefresh);

  beforeAll(async () => {
    wh = await tempWarehouse();
  });
  afterAll(async () => wh?.close());

  it('equals the reference after every load and a full refresh after the last', async () => {
    const loaded: BronzeRow[] = [];
    for (const [i, load] of ALBUM_LOADS.entries()) {
      await insertBronze(wh.connection, load);
      loaded.push(...load);
      expect(unsuccessful(await build()), `build after load ${i}`).toEqual([]);
      const events = silver(loaded);
      for (const t of marts) {
        const { compute, key } = GOLD[t]!;
        expect(
          diffRows(await readTable(wh.connection, `gold.${t}`), compute(events), key),
          `${t} after load ${i}`,
        ).toEqual([]);
      }
    }
    const completion = await readTable(
      wh.connection,
      `(select user_id, album_tracks, tracks_played, tracks_completed from gold.album_completion order by user_id)`,
    );
    expect(completion.filter((r) => ['u1', 'u2', 'u3'].includes(String(r.user_id)))).toEqual([
      { user_id: 'u1', album_tracks: 4, tracks_played: 2, tracks_completed: 2 },
      { user_id: 'u2', album_tracks: 4, tracks_played: 2, tracks_completed: 0 },
      { user_id: 'u3', album_tracks: 1, tracks_played: 1, tracks_completed: 1 },
    ]);
    const catalog = await readTable(
      wh.connection,
      `(select song_id, song_name, track_length_ms from gold.track_catalog where song_id in ('t1', 't5') order by song_id)`,
    );
    expect(catalog).toEqual([
      { song_id: 't1', song_name: 'Song t1', track_length_ms: 200_000 },
      { song_id: 't5', song_name: 'M', track_length_ms: 200_000 },
    ]);
    const incremental = new Map<string, Row[]>();
    for (const t of marts) incremental.set(t, await readTable(wh.connection, `gold.${t}`));
    expect(unsuccessful(await build(true))).toEqual([]);
    for (const t of marts)
      expect(
        diffRows(incremental.get(t) ?? [], await readTable(wh.connection, `gold.${t}`), GOLD[t]!.key),
        t,
      ).toEqual([]);
  }, 120_000);
});
