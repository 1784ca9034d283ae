/** Kafka batches of valid listening events, in the shape the event source mapping hands the consumer. */
import type { MskEvent, MskRecord } from '../../lambdas/consumer/msk-event.ts';

/** A valid listening event (as the contract has it), numbered `n`, stamped at `timestamp`. */
export function listeningEvent(n: number, timestamp: string): Record<string, unknown> {
  return {
    event_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    user_id: `user_${n % 7}`,
    song_id: `song_${n % 11}`,
    artist_name: 'Daft Punk',
    song_name: 'One More Time',
    event_type: 'play',
    device_type: 'mobile',
    country: 'US',
    timestamp,
    duration_ms: 1000,
    schema_version: 1,
  };
}

export interface BatchOptions {
  /** The Kafka timestamp (CreateTime) of every record, epoch ms. */
  readonly produced: number;
  /** @default 'spotify-events' */
  readonly topic?: string;
  /** Records go round robin over this many partitions. @default 1 */
  readonly partitions?: number;
  /** The offset of the first record; offsets count up over the whole batch. @default 0 */
  readonly firstOffset?: number;
}

/** One record per event time, valid events numbered by their offsets. */
export function mskBatch(eventTimes: readonly string[], options: BatchOptions): MskEvent {
  const topic = options.topic ?? 'spotify-events';
  const partitions = options.partitions ?? 1;
  const first = options.firstOffset ?? 0;
  const records: Record<string, MskRecord[]> = {};
  eventTimes.forEach((timestamp, i) => {
    const partition = i % partitions;
    const offset = first + i;
    (records[`${topic}-${partition}`] ??= []).push({
      topic,
      partition,
      offset,
      timestamp: options.produced,
      timestampType: 'CREATE_TIME',
      value: Buffer.from(JSON.stringify(listeningEvent(offset, timestamp))).toString('base64'),
    });
  });
  return { eventSource: 'aws:kafka', records };
}
