/**
 * The Bronze layout in the object store: where landed events and quarantined records live.
 *
 *   bronze/date=YYYY-MM-DD/hour=HH/<topic>-<partition>-<firstOffset>-<lastOffset>.ndjson.gz   (event time)
 *   quarantine/date=YYYY-MM-DD/hour=HH/<topic>-<partition>-<firstOffset>-<lastOffset>.ndjson.gz (arrival time)
 *
 * Keys are deterministic in (topic, partition, offsets), so a re-delivered batch overwrites the same object.
 *
 *   arrivals/date=YYYY-MM-DD/hour=HH/<Bronze key>                                               (landing time)
 *
 * An arrival marker (an empty object) is written, after its Bronze object, for every Bronze object whose
 * events are not of the hour it lands in: a late (or early) object. The loader lists the markers of the hours
 * it loads, so an object landed days after its events' hour, beyond any lookback, is still found by the next
 * run; listing Bronze by event hour alone would never look there again.
 */
import type { ListeningEvent } from './contract.ts';

export const BRONZE_PREFIX = 'bronze/';
export const QUARANTINE_PREFIX = 'quarantine/';
export const RUNS_PREFIX = 'runs/';
export const ARRIVALS_PREFIX = 'arrivals/';

/** The Kafka lineage a Bronze line adds to its event. */
export interface BronzeLineage {
  readonly _topic: string;
  readonly _partition: number;
  readonly _offset: number;
  /** The Kafka record timestamp, ISO-8601 UTC. */
  readonly _kafka_timestamp: string;
}

/** One line of a Bronze object: the validated event (of either contract version) plus its Kafka lineage. */
export type BronzeRecord = ListeningEvent & BronzeLineage;

/** One line of a quarantine object: the raw record and every reason it was rejected. */
export interface QuarantineRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly kafka_timestamp: string;
  /** The raw Kafka value, base64 (it may not be UTF-8); null when the record had no value. */
  readonly value_base64: string | null;
  readonly key_base64: string | null;
  readonly problems: readonly { readonly path: string; readonly code: string; readonly message: string }[];
}

/** `date=YYYY-MM-DD/hour=HH/` of an instant, in UTC. */
export function hourPartition(instant: Date): string {
  const iso = instant.toISOString();
  return `date=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}/`;
}

/** The object name of a batch slice: `<topic>-<partition>-<firstOffset>-<lastOffset>.ndjson.gz`. */
export function batchObjectName(
  topic: string,
  partition: number,
  firstOffset: number,
  lastOffset: number,
): string {
  return `${topic}-${partition}-${firstOffset}-${lastOffset}.ndjson.gz`;
}

export function bronzeKey(
  eventHour: Date,
  topic: string,
  partition: number,
  first: number,
  last: number,
): string {
  return `${BRONZE_PREFIX}${hourPartition(eventHour)}${batchObjectName(topic, partition, first, last)}`;
}

export function quarantineKey(
  arrival: Date,
  topic: string,
  partition: number,
  first: number,
  last: number,
): string {
  return `${QUARANTINE_PREFIX}${hourPartition(arrival)}${batchObjectName(topic, partition, first, last)}`;
}

const PARTITION_RE = /(?:^|\/)date=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\//;

/** The start of the hour a Bronze or quarantine key belongs to, or undefined when the key has no partition. */
export function hourOfKey(key: string): Date | undefined {
  const m = PARTITION_RE.exec(key);
  if (!m) return undefined;
  const d = new Date(`${m[1]}T${m[2]}:00:00.000Z`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** The arrival marker of a Bronze object that landed in the hour of `landed`. */
export function arrivalKey(landed: Date, bronzeObjectKey: string): string {
  return `${ARRIVALS_PREFIX}${hourPartition(landed)}${bronzeObjectKey}`;
}

const ARRIVAL_RE = /^arrivals\/date=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/(.+)$/;

/** The Bronze key an arrival marker points at, or undefined when the key is not a marker. */
export function bronzeKeyOfArrival(markerKey: string): string | undefined {
  const m = ARRIVAL_RE.exec(markerKey);
  return m && m[1]!.startsWith(BRONZE_PREFIX) ? m[1] : undefined;
}
