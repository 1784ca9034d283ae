/**
 * Validation of produced record batches (magic v2), as a Kafka broker does before it appends them
 * (LogValidator and DefaultRecordBatch): the framing, the CRC-32C over attributes..end, a compression codec
 * Kafka defines, and, decompressed, records that parse and number exactly what the batch declares. A
 * refused batch raises RecordsError with the Kafka error code and the reason; nothing of it is stored.
 *
 * Record batch v2 header (offsets from the start of the batch):
 *   0 baseOffset int64 | 8 batchLength int32 | 12 partitionLeaderEpoch int32 | 16 magic int8 | 17 crc uint32
 *   21 attributes int16 | 23 lastOffsetDelta int32 | 27 baseTimestamp int64 | 35 maxTimestamp int64
 *   43 producerId int64 | 51 producerEpoch int16 | 53 baseSequence int32 | 57 recordCount int32 | 61 records
 */
import { MdsError } from '../../lambdas/core/errors.ts';
import { CODEC_NAMES, Codec, decompress, DecompressionError } from './codecs.ts';
import { ErrorCode } from './protocol.ts';

export const BATCH_HEADER = 61;
export const LOG_OVERHEAD = 12;
export const LENGTH_OFFSET = 8;
export const MAGIC_OFFSET = 16;
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const MAX_TIMESTAMP_OFFSET = 35;
const RECORD_COUNT_OFFSET = 57;

const CODEC_MASK = 0x07;
const CONTROL_FLAG = 0x20;

/** A batch refused at produce: the Kafka error code for the response and the reason for the broker log. */
export class RecordsError extends MdsError {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), slicing by 8. */
const CRC_TABLES: Uint32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    tables[0]![n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let t = 1; t < 8; t++) {
      const prev = tables[t - 1]![n]!;
      tables[t]![n] = (prev >>> 8) ^ tables[0]![prev & 0xff]!;
    }
  }
  return tables;
})();

export function crc32c(buf: Buffer, start = 0, end = buf.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES as [
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
  ];
  let crc = 0xffffffff;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const lo = (crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24))) >>> 0;
    crc =
      t7[lo & 0xff]! ^
      t6[(lo >>> 8) & 0xff]! ^
      t5[(lo >>> 16) & 0xff]! ^
      t4[lo >>> 24]! ^
      t3[buf[i + 4]!]! ^
      t2[buf[i + 5]!]! ^
      t1[buf[i + 6]!]! ^
      t0[buf[i + 7]!]!;
  }
  for (; i < end; i++) crc = t0[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export interface BatchInfo {
  readonly length: number;
  readonly lastOffsetDelta: number;
}

export interface ValidationOptions {
  /** zstd needs Produce v7 or later (KIP-110); an older request with a zstd batch is refused. */
  readonly allowZstd: boolean;
}

/** Splits a produce request's records of one partition into batches and validates them; throws RecordsError. */
export function validateBatches(records: Buffer, options: ValidationOptions): BatchInfo[] {
  const out: BatchInfo[] = [];
  let at = 0;
  while (at < records.length) {
    if (records.length - at < BATCH_HEADER) {
      throw new RecordsError(
        ErrorCode.CORRUPT_MESSAGE,
        `${records.length - at} bytes after the last batch are too few for a batch header`,
      );
    }
    const length = LOG_OVERHEAD + records.readInt32BE(at + LENGTH_OFFSET);
    if (length < BATCH_HEADER || at + length > records.length) {
      throw new RecordsError(
        ErrorCode.CORRUPT_MESSAGE,
        `batchLength ${length - LOG_OVERHEAD} does not fit the ${records.length - at} bytes sent`,
      );
    }
    out.push(validateBatch(records.subarray(at, at + length), options));
    at += length;
  }
  if (out.length === 0) throw new RecordsError(ErrorCode.CORRUPT_MESSAGE, 'the request holds no batch');
  if (out.length > 1) {
    // As Kafka's LogValidator: with magic 2 a produce request carries one batch per partition.
    throw new RecordsError(
      ErrorCode.INVALID_RECORD,
      `${out.length} batches for one partition: one is allowed`,
    );
  }
  return out;
}

function validateBatch(batch: Buffer, options: ValidationOptions): BatchInfo {
  const magic = batch.readInt8(MAGIC_OFFSET);
  if (magic !== 2) {
    throw new RecordsError(
      ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
      `magic ${magic}: only record batches of magic 2 are accepted`,
    );
  }
  const stored = batch.readUInt32BE(CRC_OFFSET);
  const computed = crc32c(batch, ATTRIBUTES_OFFSET);
  if (stored !== computed) {
    throw new RecordsError(
      ErrorCode.CORRUPT_MESSAGE,
      `CRC-32C ${hex(stored)} in the batch, ${hex(computed)} computed over its bytes`,
    );
  }
  const attributes = batch.readInt16BE(ATTRIBUTES_OFFSET);
  const codec = attributes & CODEC_MASK;
  if (codec > Codec.ZSTD) {
    throw new RecordsError(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `compression codec ${codec} is unknown`);
  }
  if (codec === Codec.ZSTD && !options.allowZstd) {
    throw new RecordsError(
      ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
      'zstd batches need Produce v7 or later (KIP-110)',
    );
  }
  if (attributes & CONTROL_FLAG) {
    throw new RecordsError(ErrorCode.INVALID_RECORD, 'clients may not write control batches');
  }
  const lastOffsetDelta = batch.readInt32BE(LAST_OFFSET_DELTA_OFFSET);
  const count = batch.readInt32BE(RECORD_COUNT_OFFSET);
  if (count <= 0) throw new RecordsError(ErrorCode.INVALID_RECORD, `record count ${count} is not positive`);
  if (lastOffsetDelta + 1 !== count) {
    throw new RecordsError(
      ErrorCode.INVALID_RECORD,
      `lastOffsetDelta ${lastOffsetDelta} and record count ${count} disagree`,
    );
  }
  let body: Buffer;
  if (codec === Codec.NONE) {
    body = batch.subarray(BATCH_HEADER);
  } else {
    try {
      body = decompress(codec, batch.subarray(BATCH_HEADER));
    } catch (err) {
      if (!(err instanceof DecompressionError)) throw err;
      throw new RecordsError(ErrorCode.CORRUPT_MESSAGE, err.message);
    }
  }
  const problem = checkRecords(body, count);
  if (problem) {
    const what = codec === Codec.NONE ? '' : ` (${CODEC_NAMES[codec]}, decompressed)`;
    throw new RecordsError(ErrorCode.INVALID_RECORD, `${problem}${what}`);
  }
  return { length: batch.length, lastOffsetDelta };
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** A record that runs past the end of its batch; the caller names the record. */
class Truncated extends MdsError {
  constructor() {
    super('a record runs past the end of its batch');
  }
}

/** Reads a zigzag varint (at most 5 bytes); returns [value, next position]. */
function varint(buf: Buffer, at: number, end: number): [number, number] {
  let raw = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (at >= end) throw new Truncated();
    const b = buf[at++]!;
    raw += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) {
      const value = raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
      return [value, at];
    }
  }
  throw new Truncated();
}

/** Skips a varlong (at most 10 bytes). */
function skipVarlong(buf: Buffer, at: number, end: number): number {
  for (let i = 0; i < 10; i++) {
    if (at >= end) throw new Truncated();
    if (buf[at++]! < 0x80) return at;
  }
  throw new Truncated();
}

/** Skips a varint-length-prefixed field; -1 (null) only where `nullable`. */
function skipBytes(buf: Buffer, at: number, end: number, nullable: boolean): number {
  const [len, next] = varint(buf, at, end);
  if (len < (nullable ? -1 : 0)) throw new Truncated();
  if (next + Math.max(0, len) > end) throw new Truncated();
  return next + Math.max(0, len);
}

/**
 * Walks the records: each is length, attributes, timestampDelta, offsetDelta, key, value, headers, and its
 * fields must fill exactly its length; the records must number `count` and fill the body exactly. Returns
 * the problem, or null.
 */
function checkRecords(body: Buffer, count: number): string | null {
  const end = body.length;
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at >= end) return `the batch declares ${count} records but holds ${i}`;
    let recordEnd: number;
    try {
      const [length, start] = varint(body, at, end);
      recordEnd = start + length;
      if (length < 1 || recordEnd > end) return `record ${i} of ${count} is cut short`;
      let p = start + 1; // attributes
      p = skipVarlong(body, p, recordEnd);
      [, p] = varint(body, p, recordEnd); // offsetDelta
      p = skipBytes(body, p, recordEnd, true); // key
      p = skipBytes(body, p, recordEnd, true); // value
      const [headers, h] = varint(body, p, recordEnd);
      if (headers < 0) return `record ${i} of ${count} has ${headers} headers`;
      p = h;
      for (let k = 0; k < headers; k++) {
        p = skipBytes(body, p, recordEnd, false);
        p = skipBytes(body, p, recordEnd, true);
      }
      if (p !== recordEnd) return `record ${i} of ${count} has ${recordEnd - p} bytes past its fields`;
    } catch (err) {
      if (err instanceof Truncated) return `record ${i} of ${count} does not parse`;
      throw err;
    }
    at = recordEnd;
  }
  if (at !== end) return `the batch declares ${count} records but holds more (${end - at} bytes left)`;
  return null;
}
