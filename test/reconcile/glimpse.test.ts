/**
 * The run summary's glimpse of Gold (goldGlimpse): the window's days' top tracks and artists ranked as the
 * dashboard ranks a range (by streams summed over the days, then minutes, then listener-days), on Gold that
 * dbt built from hand-made events where plays and streams disagree.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListeningEventV2 } from '../../lambdas/core/contract.ts';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lambdas/core/warehouse/duckdb.ts';
import { goldGlimpse } from '../../lambdas/reconcile/reconcile.ts';
import { runDbt } from '../../localstack/dbt/index.ts';
import { asBronzeRow, insertBronze, type BronzeRow } from '../dbt/dataset.ts';
import { DBT_PROJECT, unsuccessful } from '../dbt/helpers.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const ARTIST: Record<string, string> = { a: 'Alpha', b: 'Beta', c: 'Gamma', d: 'Delta' };
let offset = 0;

/** A simulator play of `seconds` on `day` at `time`. */
function play(user: string, song: string, day: string, time: string, seconds: number): BronzeRow {
  const timestamp = `${day}T${time}.000Z`;
  offset += 1;
  const event: ListeningEventV2 = {
    event_id: `g${String(offset).padStart(4, '0')}`,
    user_id: user,
    song_id: song,
    artist_name: ARTIST[song] as string,
    song_name: `Song ${song}`,
    album_name: null,
    track_length_ms: 240_000,
    event_type: 'play',
    device_type: 'mobile',
    country: 'SE',
    timestamp,
    duration_ms: seconds * 1000,
    source: 'simulator',
    schema_version: 2,
  };
  return asBronzeRow(event, {
    partition: 0,
    offset,
    loadedAt: '2026-05-03T00:00:00.000Z',
    file: 'bronze/glimpse.ndjson.gz',
  });
}

const D1 = '2026-05-01';
const D2 = '2026-05-02';
const ROWS: BronzeRow[] = [
  // Alpha: the most plays (10) but only 2 streams: 8 plays are under 30 s.
  play('u1', 'a', D1, '01:00:00', 60),
  play('u1', 'a', D1, '01:05:00', 60),
  ...Array.from({ length: 8 }, (_, i) => play('u1', 'a', D1, `02:0${i}:00`, 10)),
  // Beta: 3 streams, split over the two days (a range sums its days).
  play('u2', 'b', D1, '03:00:00', 60),
  play('u2', 'b', D1, '03:05:00', 60),
  play('u2', 'b', D2, '03:00:00', 60),
  // Gamma and Delta: 1 stream each; Delta's is longer, so it ranks first (minutes, not the name).
  play('u3', 'c', D2, '04:00:00', 40),
  play('u3', 'd', D2, '04:05:00', 200),
];

describe('goldGlimpse', () => {
  let dir: string;
  let wh: DuckDbWarehouse;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mds-glimpse-'));
    wh = await openDuckDbWarehouse({ path: ':memory:' });
    await wh.ensureBronze();
    await insertBronze(wh.connection, ROWS);
    const build = await runDbt({
      projectDir: DBT_PROJECT,
      connection: wh.connection,
      command: 'build',
      targetDir: dir,
    });
    expect(unsuccessful(build)).toEqual([]);
  });
  afterAll(async () => {
    await wh?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('ranks the window days by streams, then minutes listened', async () => {
    const glimpse = await goldGlimpse(wh, { start: `${D1}T00:00:00Z`, end: `${'2026-05-03'}T00:00:00Z` });
    expect(glimpse.topTracks).toEqual([
      { song_name: 'Song b', artist_name: 'Beta', streams: 3 },
      { song_name: 'Song a', artist_name: 'Alpha', streams: 2 },
      { song_name: 'Song d', artist_name: 'Delta', streams: 1 },
      { song_name: 'Song c', artist_name: 'Gamma', streams: 1 },
    ]);
    expect(glimpse.topArtists).toEqual([
      { artist_name: 'Beta', streams: 3 },
      { artist_name: 'Alpha', streams: 2 },
      { artist_name: 'Delta', streams: 1 },
      { artist_name: 'Gamma', streams: 1 },
    ]);
  });

  it("takes only the window's days", async () => {
    const glimpse = await goldGlimpse(wh, { start: `${D2}T00:00:00Z`, end: `${D2}T06:00:00Z` }, 2);
    expect(glimpse.topTracks.map((t) => [t.song_name, t.streams])).toEqual([
      ['Song d', 1],
      ['Song b', 1],
    ]);
  });
});
