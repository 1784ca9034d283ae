import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBronze } from '../../lambdas/loader/load.ts';
import { openDuckDbWarehouse } from '../../lambdas/core/warehouse/duckdb.ts';
import { startLocalS3, type LocalS3 } from '../../localstack/s3-server.ts';
import { bronzeRows, expectedRows, putBronze, records, type PutObject } from './bronze-fixtures.ts';

const BUCKET = 'bronze-killed';
let dir: string;
let s3server: LocalS3;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mds-loader-killed-'));
  s3server = await startLocalS3({ directory: path.join(dir, 's3'), buckets: [BUCKET] });
});
afterAll(async () => {
  await s3server?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs loadBronze in another process that reports each committed batch; returns once it is killed. */
async function loadAndKillAfter(batches: number, file: string, req: object): Promise<number> {
  const modules = {
    load: fileURLToPath(new URL('../../lambdas/loader/load.ts', import.meta.url)),
    duckdb: fileURLToPath(new URL('../../lambdas/core/warehouse/duckdb.ts', import.meta.url)),
    s3: fileURLToPath(new URL('../../lambdas/core/s3.ts', import.meta.url)),
  };
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { loadBronze } = await import(${JSON.stringify(modules.load)});
       const { openDuckDbWarehouse } = await import(${JSON.stringify(modules.duckdb)});
       const { localS3ClientConfig } = await import(${JSON.stringify(modules.s3)});
       const { S3Client } = await import('@aws-sdk/client-s3');
       const wh = await openDuckDbWarehouse({ path: ${JSON.stringify(file)} });
       const load = wh.loadObjects.bind(wh);
       wh.loadObjects = async (batch) => { const out = await load(batch); console.log('committed'); return out; };
       const s3 = new S3Client(localS3ClientConfig(${JSON.stringify(s3server.endpoint)}));
       await loadBronze({ s3, bucket: ${JSON.stringify(BUCKET)}, warehouse: wh }, ${JSON.stringify(req)});
       console.log('finished');`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let committed = 0;
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      committed += d.toString().split('committed').length - 1;
      if (d.toString().includes('finished')) reject(new Error('the load finished before it was killed'));
      if (committed >= batches) child.kill('SIGKILL');
    });
    child.on('exit', () => resolve(committed));
  });
}

describe('Bronze loader killed midway (DuckDB)', () => {
  it('a rerun after SIGKILL leaves every record in Bronze exactly once', async () => {
    // Prepare: 40 objects, loaded one per transaction by a process killed after its third commit
    const s3 = s3server.client();
    const hour = new Date('2026-09-09T09:00:00Z');
    const objects: PutObject[] = [];
    for (let p = 0; p < 40; p++) objects.push(await putBronze(s3, BUCKET, hour, records(hour, 25, p)));
    const file = path.join(dir, 'warehouse.duckdb');
    const req = {
      windowStart: hour.toISOString(),
      windowEnd: '2026-09-09T10:00:00Z',
      lookbackHours: 0,
      batchSize: 1,
    };

    // Act
    const committedBeforeKill = await loadAndKillAfter(3, file, req);
    const wh = await openDuckDbWarehouse({ path: file });
    try {
      const survived = (await bronzeRows(wh)).length;
      const rerun = await loadBronze({ s3, bucket: BUCKET, warehouse: wh }, req);

      // Assess
      expect(committedBeforeKill).toBeGreaterThanOrEqual(3);
      expect(survived).toBeGreaterThanOrEqual(3 * 25);
      expect(rerun.objectsLoaded + rerun.objectsSkipped).toBe(40);
      expect(rerun.rowsLoaded).toBe(40 * 25 - survived);
      expect(await bronzeRows(wh)).toEqual(expectedRows(objects));
    } finally {
      await wh.close();
      s3.destroy();
    }
  });
});
