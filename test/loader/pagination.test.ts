import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBronze } from '../../lambdas/loader/load.ts';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lambdas/core/warehouse/duckdb.ts';
import { localS3ClientConfig } from '../../lambdas/core/s3.ts';
import { putBronze, records } from './bronze-fixtures.ts';

const BUCKET = 'bronze-pages';
let dir: string;
let server: ChildProcess;
let endpoint: string;
let wh: DuckDbWarehouse;

/**
 * The local S3 server's continuation tokens use DES, which OpenSSL 3 only has in its legacy provider, so
 * a truncated listing fails with InternalError in a default Node 20 process. The server runs in a child
 * process with that provider; the loader under test runs here as usual.
 */
async function startPagingS3(directory: string): Promise<string> {
  const s3server = fileURLToPath(new URL('../../localstack/s3-server.ts', import.meta.url));
  server = spawn(
    process.execPath,
    [
      '--openssl-legacy-provider',
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { startLocalS3 } = await import(${JSON.stringify(s3server)});
       const s = await startLocalS3({ directory: ${JSON.stringify(directory)}, buckets: [${JSON.stringify(BUCKET)}] });
       console.log('endpoint ' + s.endpoint);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    server.stdout?.on('data', (d: Buffer) => {
      const m = /endpoint (\S+)/.exec(d.toString());
      if (m?.[1]) resolve(m[1]);
    });
    server.on('exit', (code) => reject(new Error(`local S3 server exited with ${code}`)));
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mds-loader-pages-'));
  endpoint = await startPagingS3(path.join(dir, 's3'));
  wh = await openDuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
});
afterAll(async () => {
  await wh?.close();
  server?.kill();
  await rm(dir, { recursive: true, force: true });
});

describe('Bronze loader listing', () => {
  it('loads every object of an hour holding more than one page (1,000 keys) of objects', async () => {
    // Prepare: 1,030 one-event objects in one hour
    const s3 = new S3Client(localS3ClientConfig(endpoint));
    const hour = new Date('2026-03-03T03:00:00Z');
    for (let i = 0; i < 1030; i += 10) {
      await Promise.all(Array.from({ length: 10 }, () => putBronze(s3, BUCKET, hour, records(hour, 1))));
    }

    // Act
    const result = await loadBronze(
      { s3, bucket: BUCKET, warehouse: wh },
      { windowStart: hour.toISOString(), windowEnd: '2026-03-03T04:00:00Z', lookbackHours: 0 },
    );

    // Assess
    expect(result).toMatchObject({ objectsSeen: 1030, objectsLoaded: 1030, rowsLoaded: 1030, errors: [] });
    expect(
      await wh.query('SELECT count(DISTINCT source_file) AS files FROM bronze.listening_events'),
    ).toEqual([{ files: 1030 }]);
    s3.destroy();
  });
});
