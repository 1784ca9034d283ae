/**
 * Test data for the dbt project: simulated records (duplicates, late events, invalid records) turned into
 * Bronze rows the way the pipeline does it: invalid records dropped by the contract, the rest given Kafka
 * lineage (partition from the key, offsets in send order) and a load time per hourly load.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { validateEvent, type ListeningEvent } from '../../lambdas/core/contract.ts';
import { simulate, type SimulatorOptions } from '../../lambdas/core/simulator/index.ts';
import { bronzeDdl } from '../../lambdas/core/warehouse/sql.ts';

export const TOPIC = 'spotify-events';
const PARTITIONS = 3;

export type BronzeRow = ListeningEvent & BronzeLineage;

interface BronzeLineage {
  readonly kafka_partition: number;
  readonly kafka_offset: number;
  readonly kafka_timestamp: string;
  /** ISO instant the hourly load that carries this row runs (end of its send hour). */
  readonly loaded_at: string;
  readonly source_file: string;
  readonly source_row: number;
}

function partitionOf(key: string): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
  return Math.abs(h) % PARTITIONS;
}

/**
 * The valid simulated records as Bronze rows, in send order. `validate: false` skips the contract check
 * (for large runs without invalid records, where the simulator's output is valid by construction).
 */
export function* bronzeRowStream(
  options: SimulatorOptions,
  validate = true,
  counts: { invalid: number } = { invalid: 0 },
): Generator<BronzeRow> {
  const offsets = new Array<number>(PARTITIONS).fill(0);
  for (const record of simulate(options).records()) {
    let event: ListeningEvent;
    try {
      const parsed: unknown = JSON.parse(record.value);
      if (validate) {
        const result = validateEvent(parsed);
        if (!result.ok) {
          counts.invalid += 1;
          continue;
        }
        event = result.event;
      } else {
        event = parsed as ListeningEvent;
      }
    } catch {
      counts.invalid += 1;
      continue;
    }
    const partition = partitionOf(record.key ?? '');
    const offset = offsets[partition] as number;
    offsets[partition] = offset + 1;
    const sendHour = Math.floor(record.sendTime.getTime() / 3_600_000) * 3_600_000;
    yield {
      ...event,
      kafka_partition: partition,
      kafka_offset: offset,
      kafka_timestamp: record.sendTime.toISOString(),
      loaded_at: new Date(sendHour + 3_600_000).toISOString(),
      source_file: `bronze/${TOPIC}-${partition}-${offset}.ndjson.gz`,
      source_row: 1,
    };
  }
}

/** Every valid simulated record as a Bronze row, in send order; invalid ones are counted, not kept. */
/**
 * A hand-made event as the Bronze row the consumer would land: sent at its own event time, at `offset` of
 * `partition`, loaded at `loadedAt` from object `file` (row `offset`).
 */
export function asBronzeRow(
  event: ListeningEvent,
  lineage: {
    readonly partition: number;
    readonly offset: number;
    readonly loadedAt: string;
    readonly file: string;
  },
): BronzeRow {
  return {
    ...event,
    kafka_partition: lineage.partition,
    kafka_offset: lineage.offset,
    kafka_timestamp: event.timestamp,
    loaded_at: lineage.loadedAt,
    source_file: lineage.file,
    source_row: lineage.offset,
  };
}

export function bronzeRows(options: SimulatorOptions): { rows: BronzeRow[]; invalid: number } {
  const counts = { invalid: 0 };
  const rows = [...bronzeRowStream(options, true, counts)];
  return { rows, invalid: counts.invalid };
}

export async function createBronze(conn: DuckDBConnection): Promise<void> {
  for (const statement of bronzeDdl()) await conn.run(statement);
}

/** Bulk insert through an NDJSON file and read_ndjson (never row by row), written in chunks to bound memory. */
export async function insertBronze(conn: DuckDBConnection, rows: Iterable<BronzeRow>): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dbt-bronze-'));
  try {
    const file = path.join(dir, 'rows.ndjson');
    const handle = await open(file, 'w');
    let count = 0;
    try {
      let chunk: string[] = [];
      for (const row of rows) {
        chunk.push(JSON.stringify(row));
        count += 1;
        if (chunk.length === 50_000) {
          await handle.write(`${chunk.join('\n')}\n`);
          chunk = [];
        }
      }
      if (chunk.length > 0) await handle.write(`${chunk.join('\n')}\n`);
    } finally {
      await handle.close();
    }
    if (count === 0) return 0;
    await conn.run(`insert into bronze.listening_events (
        event_id, user_id, song_id, artist_name, song_name, event_type, device_type, country, event_timestamp,
        duration_ms, schema_version, kafka_topic, kafka_partition, kafka_offset, kafka_timestamp, source_file,
        source_row, loaded_at, album_name, track_length_ms, source)
      select event_id, user_id, song_id, artist_name, song_name, event_type, device_type, country,
        cast(replace(replace("timestamp", 'T', ' '), 'Z', '') as timestamp), duration_ms, schema_version,
        '${TOPIC}', kafka_partition, kafka_offset, cast(replace(replace(kafka_timestamp, 'T', ' '), 'Z', '') as timestamp),
        source_file, source_row, cast(replace(replace(loaded_at, 'T', ' '), 'Z', '') as timestamp),
        album_name, track_length_ms, source
      from read_ndjson('${file.replaceAll("'", "''")}', columns = {
        event_id: 'VARCHAR', user_id: 'VARCHAR', song_id: 'VARCHAR', artist_name: 'VARCHAR', song_name: 'VARCHAR',
        album_name: 'VARCHAR', track_length_ms: 'BIGINT', source: 'VARCHAR',
        event_type: 'VARCHAR', device_type: 'VARCHAR', country: 'VARCHAR', "timestamp": 'VARCHAR',
        duration_ms: 'BIGINT', schema_version: 'INTEGER', kafka_partition: 'INTEGER', kafka_offset: 'BIGINT',
        kafka_timestamp: 'VARCHAR', source_file: 'VARCHAR', source_row: 'BIGINT', loaded_at: 'VARCHAR'})`);
    return count;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
