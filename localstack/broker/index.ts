/**
 * The local Kafka-protocol broker: a single-node development server that unmodified Kafka clients
 * (kafkajs, librdkafka/kcat) can produce to and consume from, with topics, consumer groups and
 * committed offsets kept on disk. Production runs on Amazon MSK; this stands in for it on a laptop.
 */
import net from 'node:net';
import { GroupCoordinator } from './groups.ts';
import { apiVersionsBody, HANDLERS, SUPPORTED_VERSIONS, type BrokerContext } from './handlers.ts';
import { TopicStore } from './log.ts';
import { ApiKey, ErrorCode, ProtocolError, Reader } from './protocol.ts';

export interface BrokerOptions {
  readonly dataDir: string;
  /** @default 9092; 0 picks a free port */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Partitions of auto-created topics and of CreateTopics with -1. @default 3 */
  readonly defaultPartitions?: number;
  /** Create a topic when a client asks for its metadata. @default true */
  readonly autoCreateTopics?: boolean;
  /** Receives one line per notable event (topic created, rebalance, bad client). @default no logging */
  readonly log?: (line: string) => void;
  /** Largest request frame accepted; a bigger one closes the connection. @default 100 MiB, as Kafka's socket.request.max.bytes */
  readonly maxRequestBytes?: number;
}

export interface RunningBroker {
  readonly port: number;
  readonly bootstrap: string;
  close(): Promise<void>;
}

const DEFAULT_MAX_REQUEST_BYTES = 100 * 1024 * 1024;
/** Requests parsed but not yet answered on one connection before the broker stops reading from it. */
const MAX_QUEUED_REQUESTS = 64;

export async function startBroker(options: BrokerOptions): Promise<RunningBroker> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => undefined);
  const maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const topics = await TopicStore.open(options.dataDir, log);
  const groups = new GroupCoordinator(options.dataDir, log);
  const closing = new AbortController();
  const sockets = new Set<net.Socket>();
  const loggedOnce = new Set<string>();
  const logOnce = (key: string, line: string): void => {
    if (loggedOnce.has(key)) return;
    loggedOnce.add(key);
    log(line);
  };

  const server = net.createServer({ noDelay: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 9092, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  const ctx: BrokerContext = {
    host,
    port,
    topics,
    groups,
    defaultPartitions: options.defaultPartitions ?? 3,
    autoCreateTopics: options.autoCreateTopics ?? true,
    closing: closing.signal,
    log,
  };

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveConnection(socket, ctx, maxRequestBytes, logOnce);
  });
  log(`broker: listening on ${host}:${port}, data in ${options.dataDir}`);

  let closed: Promise<void> | undefined;
  return {
    port,
    bootstrap: `${host}:${port}`,
    close: () =>
      (closed ??= (async () => {
        closing.abort();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await stopped;
        await groups.close();
        await topics.close();
        log('broker: stopped');
      })()),
  };
}

/** Reads length-prefixed request frames and answers them one at a time, in order, as Kafka does. */
function serveConnection(
  socket: net.Socket,
  ctx: BrokerContext,
  maxRequestBytes: number,
  logOnce: (key: string, line: string) => void,
): void {
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const queue: Buffer[] = [];
  let busy = false;

  const drop = (why: string): void => {
    ctx.log(`broker: closing connection from ${peer}: ${why}`);
    socket.destroy();
  };

  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk) => {
    pending.push(chunk);
    pendingBytes += chunk.length;
    while (pendingBytes >= 4) {
      const head = pending[0]!.length >= 4 ? pending[0]! : Buffer.concat(pending);
      const size = head.readInt32BE(0);
      if (size < 0 || size > maxRequestBytes) {
        drop(`request frame of ${size} bytes (limit ${maxRequestBytes})`);
        return;
      }
      if (pendingBytes < 4 + size) break;
      const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
      queue.push(all.subarray(4, 4 + size));
      const rest = all.subarray(4 + size);
      pending = rest.length ? [rest] : [];
      pendingBytes = rest.length;
    }
    if (queue.length >= MAX_QUEUED_REQUESTS) socket.pause();
    if (!busy) void drain();
  });

  async function drain(): Promise<void> {
    busy = true;
    while (queue.length && !socket.destroyed) {
      const frame = queue.shift()!;
      if (queue.length < MAX_QUEUED_REQUESTS / 2 && socket.isPaused()) socket.resume();
      try {
        await handle(frame);
      } catch (err) {
        if (err instanceof ProtocolError) drop(`malformed request: ${err.message}`);
        else if (!socket.destroyed) drop(`internal error: ${err instanceof Error ? err.stack : String(err)}`);
      }
    }
    busy = false;
  }

  async function handle(frame: Buffer): Promise<void> {
    const r = new Reader(frame);
    const apiKey = r.int16();
    const version = r.int16();
    const correlationId = r.int32();
    const range = SUPPORTED_VERSIONS.get(apiKey);
    if (apiKey === ApiKey.ApiVersions && range && version > range[1]) {
      // KIP-511: answer a newer ApiVersions in the v0 layout with UNSUPPORTED_VERSION and our ranges, so the
      // client retries with a version we speak (librdkafka starts with v3). Its header is not parsed.
      send(correlationId, apiVersionsBody(0, ErrorCode.UNSUPPORTED_VERSION).finish());
      return;
    }
    const handler = HANDLERS.get(apiKey);
    if (!handler || !range || version < range[0] || version > range[1]) {
      // Kafka closes the connection on a request it cannot parse; the client sees the disconnect at once.
      const what = handler ? `version ${version} of API ${apiKey}` : `unknown API ${apiKey}`;
      logOnce(
        `${apiKey}:${version}`,
        `broker: ${what} is not supported (UNSUPPORTED_VERSION); closing such connections`,
      );
      socket.destroy();
      return;
    }
    const clientId = r.nullableString() ?? '';
    const body = await handler(r, version, ctx, clientId);
    if (body) send(correlationId, body.finish());
  }

  function send(correlationId: number, body: { chunks: Buffer[]; length: number }): void {
    if (socket.destroyed) return;
    const header = Buffer.allocUnsafe(8);
    header.writeInt32BE(4 + body.length, 0);
    header.writeInt32BE(correlationId, 4);
    socket.cork();
    socket.write(header);
    for (const c of body.chunks) socket.write(c);
    socket.uncork();
  }
}
