/**
 * Bronze landing, the pure core of the consumer: one Kafka batch in, deterministic gzip NDJSON objects out.
 *
 * - Valid records go to bronze/date=/hour=/ of their EVENT time, one object per (topic, partition, hour),
 *   lines in offset order, named by the first and last offset of the records in that object.
 * - Records that fail decoding or validation go to quarantine/date=/hour=/ of their ARRIVAL time, which is
 *   the Kafka record timestamp (not this process's clock), so a re-delivered batch writes the same keys.
 * - The same batch always yields the same keys and the same bytes: gzip output has no mtime, lines are
 *   built from the validated event in contract order, and nothing depends on the wall clock.
 * - An event time outside the plausible range is quarantined with its reason: before `eventTimeEarliest`,
 *   or more than `maxEventAheadMinutes` after the record's Kafka timestamp (a device clock years off, a
 *   9999-12-31 placeholder). Judged against the record's own timestamp, so the same batch gets the same verdict.
 * - After the batch's objects are written, `landBatch` writes an arrival marker (bronze.ts `arrivalKey`) for
 *   each Bronze object whose event hour is not the hour it lands in, so the loader finds late objects by
 *   arrival; markers are the one output that depends on the clock, and a re-delivery only adds a marker.
 */
import { isUtf8 } from 'node:buffer';
import { gzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { MAX_EVENT_BYTES, validateEvent, type Problem } from '../core/contract.ts';
import {
  BRONZE_PREFIX,
  QUARANTINE_PREFIX,
  arrivalKey,
  batchObjectName,
  hourOfKey,
  type QuarantineRecord,
} from '../core/bronze.ts';
import { putObjectBytes } from '../core/s3.ts';
import { HOUR_MS } from '../core/window.ts';
import { TransientError, errorMessage } from '../core/errors.ts';
import type { MskEvent, MskRecord } from './msk-event.ts';

export type { MskEvent, MskRecord, MskRecordHeader } from './msk-event.ts';

/**
 * Level 1: Bronze objects are written once and read once by the hourly loader, so compression speed
 * matters more than ratio here; on these NDJSON lines level 1 compresses about twice as fast as the
 * default level 6 for objects about a fifth larger (see bench/consumer.bench.ts).
 */
export const DEFAULT_GZIP_LEVEL = 1;

/** The day Spotify opened to the public: no listening history is older. */
export const DEFAULT_EVENT_TIME_EARLIEST = '2008-10-07T00:00:00.000Z';
/** How far an event time may run ahead of its record's Kafka timestamp (device clocks drift). */
export const DEFAULT_MAX_EVENT_AHEAD_MINUTES = 60;

/** At most this many PutObject requests of one batch in flight. */
const PUT_CONCURRENCY = 16;

export interface LandOptions {
  /** @default 'bronze/' */
  readonly bronzePrefix?: string;
  /** @default 'quarantine/' */
  readonly quarantinePrefix?: string;
  /** @default DEFAULT_GZIP_LEVEL */
  readonly gzipLevel?: number;
  /** Events stamped before this instant (ISO-8601) are quarantined. @default DEFAULT_EVENT_TIME_EARLIEST */
  readonly eventTimeEarliest?: string;
  /**
   * Events stamped more than this many minutes after their record's Kafka timestamp are quarantined.
   * @default DEFAULT_MAX_EVENT_AHEAD_MINUTES
   */
  readonly maxEventAheadMinutes?: number;
}

export interface PlannedObject {
  readonly kind: 'bronze' | 'quarantine';
  readonly key: string;
  /** gzip of the NDJSON lines (each line ends with a newline). */
  readonly body: Buffer;
  /** Line count; stored as the object's `records` metadata. */
  readonly records: number;
}

export interface LandPlan {
  readonly recordsIn: number;
  readonly landed: number;
  readonly quarantined: number;
  /** Bronze objects first, then quarantine objects, each sorted by key. */
  readonly objects: readonly PlannedObject[];
}

export interface LandResult extends LandPlan {
  readonly objectsWritten: number;
  /** Arrival markers written for objects whose event hour is not the landing hour. */
  readonly markersWritten: number;
  readonly bytesWritten: number;
}

/** What one invocation did; the event source mapping ignores it, the local emulator and CLI report it. */
export interface ConsumerSummary {
  readonly recordsIn: number;
  readonly landed: number;
  readonly quarantined: number;
  readonly objectsWritten: number;
  /** Arrival markers, one per object whose events are not of the hour it landed in. */
  readonly markersWritten: number;
  readonly bytesWritten: number;
}

/**
 * One output object being filled: its NDJSON bytes, in offset order. Lines are written straight into a
 * growing Buffer (UTF-8), which gzip then reads as is: no array of line strings, no join, and no second
 * UTF-8 encoding of a joined string (measured faster than both in bench/consumer.bench.ts).
 */
interface Group {
  readonly kind: 'bronze' | 'quarantine';
  readonly topic: string;
  readonly partition: number;
  readonly hourPartition: string;
  /** `YYYY-MM-DDTHH` of the hour, to match an ISO timestamp's prefix. */
  readonly hourStamp: string;
  buf: Buffer;
  size: number;
  records: number;
  first: number;
  last: number;
}

const INITIAL_OBJECT_BYTES = 64 * 1024;

/** Makes room for `chars` more UTF-16 code units, at most 3 bytes each in UTF-8. */
function reserve(g: Group, chars: number): void {
  const need = g.size + chars * 3;
  if (need <= g.buf.length) return;
  const grown = Buffer.allocUnsafe(Math.max(need, g.buf.length * 2));
  g.buf.copy(grown, 0, 0, g.size);
  g.buf = grown;
}

/** Appends `json` (a JSON object) with `suffix` spliced in before its closing brace, and a newline. */
function appendLine(g: Group, json: string, suffix: string): void {
  reserve(g, json.length + suffix.length + 1);
  // Overwrite the closing brace with the suffix (which brings its own "}").
  g.size += g.buf.write(json, g.size, 'utf8') - (suffix === '' ? 0 : 1);
  if (suffix !== '') g.size += g.buf.write(suffix, g.size, 'utf8');
  g.buf[g.size++] = 0x0a;
}

/** The problems of the record `decode` last rejected (records go one at a time: no result object per record). */
let problems: readonly Problem[] = [];
/** The event time of the record `decode` last accepted. */
let eventTimestamp = '';
/** The plausible range of the batch being planned, set by planBatch. */
let earliestMs = Date.parse(DEFAULT_EVENT_TIME_EARLIEST);
let earliestIso = DEFAULT_EVENT_TIME_EARLIEST;
let maxAheadMs = DEFAULT_MAX_EVENT_AHEAD_MINUTES * 60_000;

// One scratch buffer for every base64 decode: no Buffer allocation per record. Values larger than
// MAX_EVENT_BYTES never reach it (they are quarantined on their encoded length).
const scratch = Buffer.allocUnsafe(MAX_EVENT_BYTES + 3);

/**
 * Decodes, validates and groups a batch into the objects to write. Pure: no I/O, no clock.
 * Records of one topic-partition are taken in offset order whatever order the event lists them in.
 */
export function planBatch(event: MskEvent, options: LandOptions = {}): LandPlan {
  const bronzePrefix = options.bronzePrefix ?? BRONZE_PREFIX;
  const quarantinePrefix = options.quarantinePrefix ?? QUARANTINE_PREFIX;
  const level = options.gzipLevel ?? DEFAULT_GZIP_LEVEL;
  earliestIso = new Date(options.eventTimeEarliest ?? DEFAULT_EVENT_TIME_EARLIEST).toISOString();
  earliestMs = Date.parse(earliestIso);
  maxAheadMs = (options.maxEventAheadMinutes ?? DEFAULT_MAX_EVENT_AHEAD_MINUTES) * 60_000;
  if (Number.isNaN(earliestMs) || !(maxAheadMs >= 0)) {
    throw new RangeError(
      `eventTimeEarliest ${JSON.stringify(options.eventTimeEarliest)} / maxEventAheadMinutes ${options.maxEventAheadMinutes} are not a plausible range`,
    );
  }
  const groups = new Map<string, Group>();
  let recordsIn = 0;
  let landed = 0;
  let quarantined = 0;

  for (const list of Object.values(event.records ?? {})) {
    const records = inOffsetOrder(list);
    let lineageTopic: string | undefined;
    let lineagePartition = -1;
    let lineagePrefix = '';
    // Consecutive records mostly share an event hour: keep the last Bronze group at hand instead of
    // building a map key per record.
    let current: Group | undefined;
    for (const record of records) {
      recordsIn++;
      const kafkaTimestamp = isoOf(record.timestamp);
      const json = decode(record, kafkaTimestamp);
      if (json !== undefined) {
        landed++;
        const ts = eventTimestamp;
        if (
          current === undefined ||
          current.partition !== record.partition ||
          current.topic !== record.topic ||
          !ts.startsWith(current.hourStamp)
        ) {
          current = groupFor(groups, 'bronze', record, hourPartitionOf(ts), ts.slice(0, 13));
        }
        if (record.topic !== lineageTopic || record.partition !== lineagePartition) {
          lineageTopic = record.topic;
          lineagePartition = record.partition;
          lineagePrefix = `,"_topic":${JSON.stringify(record.topic)},"_partition":${record.partition},"_offset":`;
        }
        appendLine(current, json, `${lineagePrefix}${record.offset},"_kafka_timestamp":"${kafkaTimestamp}"}`);
        current.records++;
        current.last = record.offset;
      } else {
        quarantined++;
        const q: QuarantineRecord = {
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
          kafka_timestamp: kafkaTimestamp,
          value_base64: record.value ?? null,
          key_base64: record.key ?? null,
          problems,
        };
        const g = groupFor(
          groups,
          'quarantine',
          record,
          hourPartitionOf(kafkaTimestamp),
          kafkaTimestamp.slice(0, 13),
        );
        appendLine(g, JSON.stringify(q), '');
        g.records++;
        g.last = record.offset;
      }
    }
  }

  const objects: PlannedObject[] = [];
  for (const g of groups.values()) {
    const prefix = g.kind === 'bronze' ? bronzePrefix : quarantinePrefix;
    objects.push({
      kind: g.kind,
      key: `${prefix}${g.hourPartition}${batchObjectName(g.topic, g.partition, g.first, g.last)}`,
      body: gzipSync(g.buf.subarray(0, g.size), { level }),
      records: g.records,
    });
  }
  objects.sort((a, b) =>
    a.kind === b.kind ? (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) : a.kind === 'bronze' ? -1 : 1,
  );
  return { recordsIn, landed, quarantined, objects };
}

/**
 * Plans the batch and writes every object. Any failed write fails the whole call (after the other
 * writes settle), so the event source mapping retries the batch; the keys are deterministic, so the
 * retry overwrites the objects that did get written with the same bytes.
 */
export async function landBatch(
  s3: S3Client,
  bucket: string,
  event: MskEvent,
  options: LandOptions = {},
  now: () => number = Date.now,
): Promise<LandResult> {
  const plan = planBatch(event, options);
  await putAll(
    s3,
    bucket,
    plan.objects.map((o) => ({
      key: o.key,
      body: o.body,
      options: { contentType: 'application/gzip', metadata: { records: String(o.records) } },
    })),
    'objects',
  );
  // Only once every object is whole: a marker never points at an object that is not there.
  const landed = now();
  const landedHour = Math.floor(landed / HOUR_MS) * HOUR_MS;
  const markers = plan.objects
    .filter((o) => o.kind === 'bronze' && hourOfKey(o.key)?.getTime() !== landedHour)
    .map((o) => ({ key: arrivalKey(new Date(landed), o.key), body: EMPTY, options: {} }));
  await putAll(s3, bucket, markers, 'arrival markers');
  return {
    ...plan,
    objectsWritten: plan.objects.length,
    markersWritten: markers.length,
    bytesWritten: plan.objects.reduce((n, o) => n + o.body.length, 0),
  };
}

const EMPTY = new Uint8Array(0);

interface Put {
  readonly key: string;
  readonly body: Uint8Array;
  readonly options: Parameters<typeof putObjectBytes>[4];
}

/**
 * Writes every object, PUT_CONCURRENCY at a time. Any failed write fails the whole call (after the other
 * writes settle), so the event source mapping retries the batch.
 */
async function putAll(s3: S3Client, bucket: string, puts: readonly Put[], what: string): Promise<void> {
  const failures: { key: string; error: unknown }[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < puts.length) {
      const p = puts[next++]!;
      try {
        await putObjectBytes(s3, bucket, p.key, p.body, p.options);
      } catch (error) {
        failures.push({ key: p.key, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PUT_CONCURRENCY, puts.length) }, worker));
  if (failures.length > 0) {
    const first = failures[0]!;
    throw new TransientError(
      `${failures.length} of ${puts.length} ${what} could not be written to s3://${bucket} ` +
        `(first: ${first.key}: ${errorMessage(first.error)}); the batch must be retried`,
      { cause: first.error },
    );
  }
}

function inOffsetOrder(records: readonly MskRecord[]): readonly MskRecord[] {
  for (let i = 1; i < records.length; i++) {
    if (records[i]!.offset < records[i - 1]!.offset) return [...records].sort((a, b) => a.offset - b.offset);
  }
  return records;
}

function groupFor(
  groups: Map<string, Group>,
  kind: 'bronze' | 'quarantine',
  record: MskRecord,
  hourPartition: string,
  hourStamp: string,
): Group {
  const id = `${kind}\u0000${record.topic}\u0000${record.partition}\u0000${hourPartition}`;
  let g = groups.get(id);
  if (!g) {
    g = {
      kind,
      topic: record.topic,
      partition: record.partition,
      hourPartition,
      hourStamp,
      buf: Buffer.allocUnsafe(INITIAL_OBJECT_BYTES),
      size: 0,
      records: 0,
      first: record.offset,
      last: record.offset,
    };
    groups.set(id, g);
  }
  return g;
}

/** The validated event as JSON in contract order, or undefined with `problems` set. */
function decode(record: MskRecord, kafkaTimestamp: string): string | undefined {
  const value = record.value;
  if (value === undefined || value === null) {
    return fail('', 'missing_value', 'the Kafka record has no value');
  }
  // Reject oversize values on their encoded length, before decoding them.
  const size = Math.floor((value.length * 3) / 4) - (value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0);
  if (size > MAX_EVENT_BYTES) {
    return fail('', 'too_big', `the value is ${size} bytes; at most ${MAX_EVENT_BYTES} are accepted`);
  }
  const n = scratch.write(value, 0, 'base64');
  const text = scratch.toString('utf8', 0, n);
  // Invalid UTF-8 decodes to U+FFFD; only then is the strict check (and its Buffer view) needed.
  if (text.includes('\uFFFD') && !isUtf8(scratch.subarray(0, n))) {
    return fail('', 'invalid_utf8', 'the value is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return fail('', 'invalid_json', `the value is not JSON: ${errorMessage(err)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    const got = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`;
    return fail('', 'not_an_object', `the value is JSON ${got}, not an object`);
  }
  const result = validateEvent(parsed);
  if (!result.ok) {
    problems = result.problems;
    return undefined;
  }
  const ts = result.event.timestamp;
  const ms = Date.parse(ts);
  if (ms < earliestMs) {
    return fail(
      'timestamp',
      'too_early',
      `the event time ${ts} is before ${earliestIso}, the earliest accepted (EVENT_TIME_EARLIEST)`,
    );
  }
  // A record without a usable Kafka timestamp (isoOf gave the epoch) cannot be judged ahead of it.
  const kafkaMs = Date.parse(kafkaTimestamp);
  if (kafkaMs > 0 && ms - kafkaMs > maxAheadMs) {
    return fail(
      'timestamp',
      'too_far_ahead',
      `the event time ${ts} is ${Math.round((ms - kafkaMs) / 60_000)} minutes after the record's Kafka timestamp ${kafkaTimestamp}; at most ${maxAheadMs / 60_000} are accepted (EVENT_TIME_MAX_AHEAD_MINUTES)`,
    );
  }
  eventTimestamp = ts;
  // The validated event serializes in contract order; the lineage is spliced into its bytes instead of
  // stringifying a second object.
  return JSON.stringify(result.event);
}

function fail(path: string, code: string, message: string): undefined {
  problems = [{ path, code, message }];
  return undefined;
}

/**
 * `date=YYYY-MM-DD/hour=HH/` of an ISO-8601 UTC timestamp (the contract requires the trailing Z), read
 * from the string itself: no Date per record. Same result as bronze.ts `hourPartition`.
 */
function hourPartitionOf(iso: string): string {
  return `date=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}/`;
}

// Kafka timestamps of a batch are close together: format each second once and append the milliseconds.
let isoSecond = Number.NaN;
let isoPrefix = '';
const MIN_ISO_MS = Date.parse('0000-01-01T00:00:00.000Z');
const MAX_ISO_MS = Date.parse('9999-12-31T23:59:59.999Z');

function isoOf(epochMs: number): string {
  // A record without a usable timestamp (not a number, or outside the years 0000-9999 that ISO-8601's
  // basic form and the date=/hour= layout hold) still lands or is quarantined, under the epoch, instead
  // of failing the batch.
  const ms = epochMs >= MIN_ISO_MS && epochMs <= MAX_ISO_MS ? epochMs : 0;
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  const milli = ms - second * 1000;
  return `${isoPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}
