/**
 * The local S3-API server (s3rver) on 127.0.0.1, storing objects under the data directory.
 * Clients use the normal @aws-sdk/client-s3 code path with `localS3ClientConfig`.
 * patches/s3rver+3.7.1.patch makes its file store write an object to a temporary file and rename it into place
 * after its metadata, so no object is visible before it is whole, and a failed write (a full disk) answers the
 * PUT with 500 instead of ending the process with an unhandled 'error' event.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import type http from 'node:http';
import S3rver from 's3rver';
import { S3Client } from '@aws-sdk/client-s3';
import { localS3ClientConfig } from '../lambdas/core/s3.ts';
import { MdsError } from '../lambdas/core/errors.ts';
import { ensureDirectory } from './paths.ts';

export interface LocalS3Options {
  /** Directory for the objects. */
  readonly directory: string;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Buckets created at start when missing. */
  readonly buckets?: readonly string[];
}

export interface LocalS3 {
  readonly endpoint: string;
  readonly port: number;
  client(): S3Client;
  close(): Promise<void>;
}

export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  allowListingPastOneThousandKeys();
  await ensureDirectory(options.directory, 'the local S3 server directory');
  const port = options.port ?? 0;
  if (port !== 0) await assertPortFree(port, 'the local S3 server');
  const server = new S3rver({
    address: '127.0.0.1',
    port,
    directory: options.directory,
    silent: true,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  const address = (await server.run()) as net.AddressInfo;
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    port: address.port,
    client: () => new S3Client(localS3ClientConfig(endpoint)),
    // Closing waits for every connection to end; one whose request never finishes (a PUT that met a full
    // disk) would hold it for ever, with nothing left to keep the process alive. The server is stopping:
    // end them all.
    close: async () => {
      const closed = server.close() as Promise<void>;
      (server as unknown as { httpServer: http.Server }).httpServer.closeAllConnections();
      await closed;
    },
  };
}

/** Fails with a clear message when something already listens on the port. */
export async function assertPortFree(port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new MdsError(
          err.code === 'EADDRINUSE'
            ? `port ${port} is already in use, so ${what} cannot start; stop what uses it or pick another port`
            : `cannot listen on 127.0.0.1:${port} for ${what}: ${err.message}`,
          { cause: err },
        ),
      ),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

let desShimInstalled = false;

/**
 * s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node 18+) only offers through
 * its legacy provider: without this, every listing of more than 1,000 keys fails with InternalError. The
 * token only has to round-trip through the same server, so DES is replaced by AES-128-CBC with the 8-byte
 * key and IV repeated to 16 bytes, for the algorithm name 'des' alone. Nothing else uses 'des' here.
 */
function allowListingPastOneThousandKeys(): void {
  if (desShimInstalled) return;
  desShimInstalled = true;
  const widen = (b: crypto.BinaryLike | crypto.KeyObject | null): Buffer => {
    const buf = Buffer.from(b as Buffer);
    return Buffer.concat([buf, buf]).subarray(0, 16);
  };
  const mutable = crypto as unknown as Record<string, unknown>;
  for (const name of ['createCipheriv', 'createDecipheriv'] as const) {
    const original = crypto[name] as (...args: unknown[]) => unknown;
    mutable[name] = (algorithm: string, key: Buffer, iv: Buffer | null, ...rest: unknown[]) =>
      algorithm === 'des'
        ? original('aes-128-cbc', widen(key), widen(iv))
        : original(algorithm, key, iv, ...rest);
  }
}
