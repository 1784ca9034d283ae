/** Hand-built Kafka requests on a plain socket, for tests that must not go through a client library. */
import { createRequire } from 'node:module';
import net from 'node:net';

export function str(s: string): Buffer {
  const b = Buffer.alloc(2 + Buffer.byteLength(s));
  b.writeInt16BE(Buffer.byteLength(s), 0);
  b.write(s, 2);
  return b;
}
export const i8 = (v: number) => Buffer.from([v & 0xff]);
export const i16 = (v: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
};
export const i32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};
export const i64 = (v: number) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(v));
  return b;
};

/** A request frame with header v1 (api key, version, correlation id, client id). */
export function frame(apiKey: number, version: number, correlationId: number, body: Buffer[]): Buffer {
  const payload = Buffer.concat([i16(apiKey), i16(version), i32(correlationId), str('raw'), ...body]);
  return Buffer.concat([i32(payload.length), payload]);
}

/** A raw connection that collects response frames and notices when the broker closes it. */
export class RawClient {
  private data = Buffer.alloc(0);
  closed = false;
  private readonly socket: net.Socket;
  private readonly ready: Promise<void>;
  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.ready = new Promise((resolve) => this.socket.once('connect', () => resolve()));
    this.socket.on('data', (d) => (this.data = Buffer.concat([this.data, d])));
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', () => undefined);
  }
  async send(bytes: Buffer): Promise<void> {
    await this.ready;
    this.socket.write(bytes);
  }
  /** The next response body (after the correlation id), or null if the connection closed first. */
  async response(ms = 10_000): Promise<{ correlationId: number; body: Buffer } | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.data.length >= 4 && this.data.length >= 4 + this.data.readInt32BE(0)) {
        const size = this.data.readInt32BE(0);
        const out = { correlationId: this.data.readInt32BE(4), body: this.data.subarray(8, 4 + size) };
        this.data = this.data.subarray(4 + size);
        return out;
      }
      if (this.closed) return null;
      if (Date.now() > deadline) throw new Error(`no response and no close within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  end(): void {
    this.socket.destroy();
  }
}

/** kafkajs's own CRC-32C, independent of the broker's, for hand-built batches. */
const kafkajsCrc32c = createRequire(import.meta.url)('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (
  b: Buffer,
) => number;

function varint(v: number): Buffer {
  let z = v >= 0 ? v * 2 : -v * 2 - 1;
  const out: number[] = [];
  while (z >= 0x80) {
    out.push((z & 0x7f) | 0x80);
    z = Math.floor(z / 128);
  }
  out.push(z);
  return Buffer.from(out);
}

/** One record v2: attributes 0, timestamp delta 0, its offset delta, key, value, no headers. */
export function record(offsetDelta: number, key: string, value: string): Buffer {
  const k = Buffer.from(key);
  const v = Buffer.from(value);
  const body = Buffer.concat([
    i8(0),
    varint(0),
    varint(offsetDelta),
    varint(k.length),
    k,
    varint(v.length),
    v,
    varint(0),
  ]);
  return Buffer.concat([varint(body.length), body]);
}

export interface BatchSpec {
  readonly values: readonly string[];
  /** Compression codec in the attributes (0-7). @default 0 */
  readonly codec?: number;
  /** The records section as sent: @default the records, uncompressed */
  readonly body?: Buffer;
  /** @default values.length */
  readonly count?: number;
  /** @default count - 1 */
  readonly lastOffsetDelta?: number;
  /** Flip a bit of the CRC after computing it. */
  readonly badCrc?: boolean;
  readonly timestamp?: number;
}

/** A record batch v2 as a producer sends it (baseOffset 0, no producer id), with a correct CRC-32C. */
export function recordBatch(spec: BatchSpec): Buffer {
  const records = Buffer.concat(spec.values.map((v, i) => record(i, `k${i}`, v)));
  const body = spec.body ?? records;
  const count = spec.count ?? spec.values.length;
  const ts = spec.timestamp ?? Date.UTC(2026, 10, 23, 10);
  const afterCrc = Buffer.concat([
    i16(spec.codec ?? 0),
    i32(spec.lastOffsetDelta ?? count - 1),
    i64(ts),
    i64(ts),
    i64(-1),
    i16(-1),
    i32(-1),
    i32(count),
    body,
  ]);
  let crc = kafkajsCrc32c(afterCrc);
  if (spec.badCrc) crc = (crc ^ 1) >>> 0;
  const crcBuf = Buffer.alloc(4);
  crcBuf.writeUInt32BE(crc);
  const afterLength = Buffer.concat([i32(-1), i8(2), crcBuf, afterCrc]);
  return Buffer.concat([i64(0), i32(afterLength.length), afterLength]);
}

/** The uncompressed records section of `values`, to compress (or corrupt) by hand. */
export function recordsOf(values: readonly string[]): Buffer {
  return Buffer.concat(values.map((v, i) => record(i, `k${i}`, v)));
}

/** A Produce request of one batch to one partition, acks=1 (v3 and later add transactional_id first). */
export function produceFrame(
  version: number,
  correlationId: number,
  topic: string,
  partition: number,
  batch: Buffer,
): Buffer {
  return frame(0, version, correlationId, [
    ...(version >= 3 ? [i16(-1)] : []),
    i16(1),
    i32(5000),
    i32(1),
    str(topic),
    i32(1),
    i32(partition),
    i32(batch.length),
    batch,
  ]);
}

/** The error code and base offset of a one-partition Produce response (every version starts so). */
export function produceResult(body: Buffer, topic: string): { error: number; baseOffset: number } {
  const at = 4 + 2 + Buffer.byteLength(topic) + 4 + 4; // topics count, name, partitions count, index
  return { error: body.readInt16BE(at), baseOffset: Number(body.readBigInt64BE(at + 2)) };
}
