/** Bronze objects for loader tests: records, gzip NDJSON bodies, and the rows they must become. */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { bronzeKey, type BronzeRecord } from '../../lambdas/core/bronze.ts';
import { putObjectBytes } from '../../lambdas/core/s3.ts';
import type { Warehouse } from '../../lambdas/core/warehouse/types.ts';

export const TOPIC = 'spotify-events';
let nextOffset = 0;

/**
 * Bronze records of an hour: contract versions 1 and 2 mixed (every third is version 1), the version-2 ones
 * with each kind of unknown a source may send (no album and length, no device and country, no ms listened).
 */
export function records(hour: Date, count: number, partition = 0): BronzeRecord[] {
  return Array.from({ length: count }, (_, i): BronzeRecord => {
    const offset = nextOffset++;
    const ts = new Date(hour.getTime() + ((i * 7919) % 3_600_000));
    const common = {
      event_id: randomUUID(),
      user_id: `user-${i % 13}`,
      song_id: `song-${i % 29}`,
      artist_name: i % 5 === 0 ? "Guns N' Roses" : `Artist "${i % 7}"\tTab`,
      song_name: `Song ${i} \\ é ☃`,
      event_type: (['play', 'pause', 'skip', 'add_to_playlist'] as const)[i % 4]!,
      timestamp: ts.toISOString(),
      _topic: TOPIC,
      _partition: partition,
      _offset: offset,
      _kafka_timestamp: new Date(ts.getTime() + 1500).toISOString(),
    };
    if (i % 3 === 0) {
      return { ...common, device_type: 'mobile', country: 'US', duration_ms: i * 1000, schema_version: 1 };
    }
    const api = i % 3 === 1;
    return {
      ...common,
      album_name: i % 6 === 5 ? null : `Album ${i % 11} "Deluxe"\t☃`,
      track_length_ms: i % 6 === 5 ? null : 180_000 + i,
      device_type: api ? null : 'desktop',
      country: i % 6 === 1 ? null : 'SE',
      duration_ms: api ? null : i * 1000,
      source: api ? 'spotify_api' : 'spotify_history',
      schema_version: 2,
    };
  });
}

export interface PutObject {
  readonly key: string;
  readonly records: readonly BronzeRecord[];
}

/**
 * Writes a Bronze object of those records, with the `records` metadata the consumer sets (lambdas/consumer/
 * land.ts); `lines` overrides the NDJSON lines (for bad input).
 */
export async function putBronze(
  s3: S3Client,
  bucket: string,
  hour: Date,
  recs: readonly BronzeRecord[],
  lines?: readonly string[],
): Promise<PutObject> {
  const first = recs[0]?._offset ?? 0;
  const last = recs.at(-1)?._offset ?? 0;
  const key = bronzeKey(hour, TOPIC, recs[0]?._partition ?? 0, first, last);
  const body = (lines ?? recs.map((r) => JSON.stringify(r))).join('\n') + '\n';
  await putObjectBytes(s3, bucket, key, gzipSync(body), {
    contentType: 'application/x-ndjson',
    metadata: { records: String(recs.length) },
  });
  return { key, records: recs };
}

/** The Bronze row a record must become (loaded_at aside). */
export function expectedRow(key: string, line: number, r: BronzeRecord): Record<string, unknown> {
  return {
    event_id: r.event_id,
    user_id: r.user_id,
    song_id: r.song_id,
    artist_name: r.artist_name,
    song_name: r.song_name,
    event_type: r.event_type,
    device_type: r.device_type,
    country: r.country,
    event_timestamp: r.timestamp,
    duration_ms: r.duration_ms,
    schema_version: r.schema_version,
    album_name: r.schema_version === 2 ? r.album_name : null,
    track_length_ms: r.schema_version === 2 ? r.track_length_ms : null,
    source: r.schema_version === 2 ? r.source : null,
    kafka_topic: r._topic,
    kafka_partition: r._partition,
    kafka_offset: r._offset,
    kafka_timestamp: r._kafka_timestamp,
    source_file: key,
    source_row: line,
  };
}

export function expectedRows(objects: readonly PutObject[]): Record<string, unknown>[] {
  return objects.flatMap((o) => o.records.map((r, i) => expectedRow(o.key, i + 1, r))).sort(byLineage);
}

/** Every Bronze row without loaded_at, in (source_file, source_row) order. */
export async function bronzeRows(wh: Warehouse): Promise<Record<string, unknown>[]> {
  const rows = await wh.query(
    `SELECT event_id, user_id, song_id, artist_name, song_name, event_type, device_type, country,
            event_timestamp, duration_ms, schema_version, album_name, track_length_ms, source,
            kafka_topic, kafka_partition, kafka_offset,
            kafka_timestamp, source_file, source_row
     FROM bronze.listening_events`,
  );
  return rows.sort(byLineage);
}

function byLineage(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const fa = String(a.source_file);
  const fb = String(b.source_file);
  if (fa !== fb) return fa < fb ? -1 : 1;
  return Number(a.source_row) - Number(b.source_row);
}
