/**
 * Contract versions 1 and 2 in one warehouse: simulated version-2 events, the same kind of events as version 1
 * (no album, track length or source), plays as the Web API gives them (no device, no milliseconds listened,
 * sometimes no country) and streaming-history entries (skips, no track length). Silver and every Gold table
 * must equal the independent TypeScript computation, which treats an unknown as unknown.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListeningEventV1, ListeningEventV2 } from '../../lambdas/core/contract.ts';
import { naturalEventId } from '../../lambdas/core/event-id.ts';
import type { DbtRunResult } from '../../localstack/dbt/index.ts';
import { bronzeRows, insertBronze, type BronzeRow } from './dataset.ts';
import {
  buildProject,
  diffRows,
  unsuccessful,
  readTable,
  tempWarehouse,
  type TempWarehouse,
} from './helpers.ts';
import { GOLD, silver } from './reference.ts';

/** Only the Web API plays this song: its skip rate is unknown (NULL), not 0. */
const API_ONLY_SONG = 'apiOnlySong00000000000';

function asV1(row: BronzeRow): BronzeRow {
  const { album_name: _a, track_length_ms: _t, source: _s, ...rest } = row as ListeningEventV2 & BronzeRow;
  return { ...rest, schema_version: 1 } as ListeningEventV1 & BronzeRow;
}

/** The Bronze rows: a third of the simulated events as version 1, plus Web API plays and history entries. */
function mixedRows(): BronzeRow[] {
  const simulated = bronzeRows({
    seed: 11,
    events: 6_000,
    start: new Date('2026-04-01T00:00:00Z'),
    end: new Date('2026-04-02T00:00:00Z'),
    users: 60,
    songs: 300,
    duplicateFraction: 0.03,
    lateFraction: 0.03,
  }).rows;
  const rows: BronzeRow[] = simulated.map((r, i) => (i % 3 === 0 ? asV1(r) : r));
  const plays = simulated.filter((r) => r.event_type === 'play');
  let offset = 0;
  const lineage = (timestamp: string): Omit<BronzeRow, keyof ListeningEventV2> => ({
    kafka_partition: 7,
    kafka_offset: offset++,
    kafka_timestamp: timestamp,
    loaded_at: new Date(Math.ceil(Date.parse(timestamp) / 3_600_000) * 3_600_000 + 3_600_000).toISOString(),
    source_file: 'bronze/other-sources.ndjson.gz',
    source_row: offset,
  });
  plays.slice(0, 600).forEach((p, i) => {
    const user = `api_user_${i % 7}`;
    const song = i % 10 === 0 ? API_ONLY_SONG : p.song_id;
    const api: ListeningEventV2 = {
      event_id: naturalEventId('spotify_api', user, p.timestamp, song),
      user_id: user,
      song_id: song,
      artist_name: p.artist_name,
      song_name: p.song_name,
      album_name: i % 5 === 0 ? null : `Album of ${p.artist_name}`,
      track_length_ms: 200_000 + i,
      event_type: 'play',
      device_type: null,
      country: i % 2 === 0 ? null : 'SE',
      timestamp: p.timestamp,
      duration_ms: null,
      source: 'spotify_api',
      schema_version: 2,
    };
    rows.push({ ...api, ...lineage(p.timestamp) });
    // A re-poll: the same play again, the same natural id, so Silver keeps it once.
    if (i % 4 === 0) rows.push({ ...api, ...lineage(p.timestamp) });
  });
  plays.slice(600, 1_000).forEach((p, i) => {
    const user = `history_user_${i % 5}`;
    const skipped = i % 3 === 0;
    const history: ListeningEventV2 = {
      event_id: naturalEventId('spotify_history', user, p.timestamp, p.song_id),
      user_id: user,
      song_id: p.song_id,
      artist_name: p.artist_name,
      song_name: p.song_name,
      album_name: `Album of ${p.artist_name}`,
      track_length_ms: null,
      event_type: skipped ? 'skip' : 'play',
      device_type: i % 2 === 0 ? 'mobile' : 'desktop',
      country: 'DE',
      timestamp: p.timestamp,
      duration_ms: skipped ? 4_000 : 180_000,
      source: 'spotify_history',
      schema_version: 2,
    };
    rows.push({ ...history, ...lineage(p.timestamp) });
  });
  return rows;
}

describe('dbt build on contract versions 1 and 2 in one warehouse, unknowns included', () => {
  let wh: TempWarehouse;
  let rows: BronzeRow[];
  let build: DbtRunResult;

  beforeAll(async () => {
    wh = await tempWarehouse();
    rows = mixedRows();
    await insertBronze(wh.connection, rows);
    build = await buildProject(wh);
  });
  afterAll(async () => wh?.close());

  it('builds every model and passes every test', () => {
    expect(unsuccessful(build)).toEqual([]);
    expect(rows.some((r) => r.schema_version === 1)).toBe(true);
  });

  it('Silver keeps album, track length and source (simulator for version 1), NULL where unknown', async () => {
    const expected = silver(rows).map((e) => ({
      event_id: e.event_id,
      album_name: e.album_name,
      track_length_ms: e.track_length_ms,
      device_type: e.device_type,
      country: e.country,
      duration_ms: e.duration_ms,
      source: e.source,
    }));
    const actual = await readTable(
      wh.connection,
      '(select event_id, album_name, track_length_ms, device_type, country, duration_ms, source from silver.stg_spotify__events)',
    );
    expect(diffRows(actual, expected, ['event_id'])).toEqual([]);
    const perSource = await readTable(
      wh.connection,
      '(select source, count(*) as n from silver.stg_spotify__events group by source order by source)',
    );
    expect(perSource.map((r) => r.source)).toEqual(['simulator', 'spotify_api', 'spotify_history']);
  });

  for (const [table, { compute, key }] of Object.entries(GOLD)) {
    it(`gold.${table} equals the TypeScript computation over both versions`, async () => {
      const expected = compute(silver(rows));
      const actual = await readTable(wh.connection, `gold.${table}`);
      expect(actual.length).toBeGreaterThan(0);
      expect(diffRows(actual, expected, key)).toEqual([]);
    });
  }

  it('treats unknowns as unknown: no skip rate without skip-reporting plays, no NULL bucket in the mixes', async () => {
    const [song] = await readTable(
      wh.connection,
      `(select plays, skips, skip_rate from gold.song_skip_rates where song_id = '${API_ONLY_SONG}')`,
    );
    expect(song).toEqual({ plays: 60, skips: 0, skip_rate: null });
    const nullBuckets = await readTable(
      wh.connection,
      `(select 'device' as mix from gold.device_mix where device_type is null
        union all select 'country' from gold.country_mix where country is null)`,
    );
    expect(nullBuckets).toEqual([]);
    // An API-only listener has plays and no known minutes (0 minutes of known duration, documented).
    const [api] = await readTable(
      wh.connection,
      `(select plays, minutes_listened from gold.user_wrapped where user_id = 'api_user_0')`,
    );
    expect(api?.plays).toBeGreaterThan(0);
    expect(api?.minutes_listened).toBe(0);
  });
});
