/**
 * Kafka wire-protocol primitives: a bounds-checked reader for requests and a writer for responses.
 * Only the classic (non-flexible) encodings are needed: the broker advertises no flexible versions,
 * so every request it parses uses request header v1 and int16/int32 length prefixes.
 */
import { MdsError } from '../../lambdas/core/errors.ts';

/** Thrown when a request does not parse; the connection that sent it is closed. */
export class ProtocolError extends MdsError {}

export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  ApiVersions: 18,
  CreateTopics: 19,
  CreatePartitions: 37,
} as const;

/** Kafka error codes this broker returns (names as in the Kafka protocol guide). */
export const ErrorCode = {
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  INVALID_FETCH_SIZE: 4,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  INVALID_TOPIC_EXCEPTION: 17,
  RECORD_LIST_TOO_LARGE: 18,
  INVALID_REQUIRED_ACKS: 21,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  KAFKA_STORAGE_ERROR: 56,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  INVALID_RECORD: 87,
} as const;

/** The protocol guide's name of an error code, for log lines. */
export function errorName(code: number): string {
  return Object.entries(ErrorCode).find(([, c]) => c === code)?.[0] ?? `error ${code}`;
}

export class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  get offset(): number {
    return this.pos;
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.buf.length) throw new ProtocolError('request is truncated');
  }
  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }
  bool(): boolean {
    return this.int8() !== 0;
  }
  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  /** Offsets and timestamps as numbers: exact up to 2^53, far beyond what a development log reaches. */
  int64(): number {
    this.need(8);
    const v = Number(this.buf.readBigInt64BE(this.pos));
    this.pos += 8;
    return v;
  }
  nullableString(): string | null {
    const len = this.int16();
    if (len < 0) return null;
    this.need(len);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
  string(): string {
    const s = this.nullableString();
    if (s === null) throw new ProtocolError('null where a string is required');
    return s;
  }
  /** A view into the request buffer, not a copy: produced record batches are written from it directly. */
  nullableBytes(): Buffer | null {
    const len = this.int32();
    if (len < 0) return null;
    this.need(len);
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }
  bytes(): Buffer {
    return this.nullableBytes() ?? Buffer.alloc(0);
  }
  nullableArray<T>(item: (r: Reader) => T): T[] | null {
    const n = this.int32();
    if (n < 0) return null;
    // Every element takes at least one byte, so a count beyond the remaining bytes is garbage, not a huge request.
    if (n > this.buf.length - this.pos) throw new ProtocolError('array length exceeds the request');
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(item(this));
    return out;
  }
  array<T>(item: (r: Reader) => T): T[] {
    return this.nullableArray(item) ?? [];
  }
}

/**
 * Builds a response as a list of buffers: small fields go into a growing scratch buffer, large byte
 * fields (record batches read from the log) are appended by reference so they are never copied.
 */
export class Writer {
  private readonly chunks: Buffer[] = [];
  private cur = Buffer.allocUnsafe(256);
  private pos = 0;

  private room(n: number): void {
    if (this.pos + n <= this.cur.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.cur.length * 2, this.pos + n));
    this.cur.copy(next, 0, 0, this.pos);
    this.cur = next;
  }
  int8(v: number): this {
    this.room(1);
    this.pos = this.cur.writeInt8(v, this.pos);
    return this;
  }
  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }
  int16(v: number): this {
    this.room(2);
    this.pos = this.cur.writeInt16BE(v, this.pos);
    return this;
  }
  int32(v: number): this {
    this.room(4);
    this.pos = this.cur.writeInt32BE(v, this.pos);
    return this;
  }
  int64(v: number): this {
    this.room(8);
    this.pos = this.cur.writeBigInt64BE(BigInt(v), this.pos);
    return this;
  }
  nullableString(v: string | null): this {
    if (v === null) return this.int16(-1);
    const len = Buffer.byteLength(v);
    this.int16(len);
    this.room(len);
    this.pos += this.cur.write(v, this.pos);
    return this;
  }
  string(v: string): this {
    return this.nullableString(v);
  }
  nullableBytes(v: Buffer | null): this {
    if (v === null) return this.int32(-1);
    this.int32(v.length);
    if (v.length < 4096) {
      this.room(v.length);
      this.pos += v.copy(this.cur, this.pos);
    } else {
      this.cut();
      this.chunks.push(v);
    }
    return this;
  }
  bytes(v: Buffer): this {
    return this.nullableBytes(v);
  }
  /** Several buffers sent as one length-prefixed bytes field (the record batches of one partition). */
  bytesList(parts: readonly Buffer[], total: number): this {
    this.int32(total);
    this.cut();
    for (const p of parts) this.chunks.push(p);
    return this;
  }
  array<T>(items: readonly T[], item: (w: Writer, v: T) => void): this {
    this.int32(items.length);
    for (const v of items) item(this, v);
    return this;
  }
  nullableArray<T>(items: readonly T[] | null, item: (w: Writer, v: T) => void): this {
    if (items === null) return this.int32(-1);
    return this.array(items, item);
  }

  private cut(): void {
    if (this.pos > 0) this.chunks.push(this.cur.subarray(0, this.pos));
    // Start a fresh scratch buffer: the old one is referenced by the pushed chunk.
    this.cur = Buffer.allocUnsafe(256);
    this.pos = 0;
  }

  /** The buffers of the body, in order, and their total length. */
  finish(): { chunks: Buffer[]; length: number } {
    this.cut();
    let length = 0;
    for (const c of this.chunks) length += c.length;
    return { chunks: this.chunks, length };
  }
}
