/** Hand-built Kafka requests on a plain socket, for tests that must not go through a client library. */
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
