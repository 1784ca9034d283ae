/**
 * The loader's behaviour every byte-loading warehouse must show (DuckDB, Postgres), run against a real
 * local S3 server and a real warehouse: exactly once per object across reruns, late objects, interrupted
 * loads, concurrent loaders, and bad input under each ON_ERROR policy.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBronze, type LoadRequest } from '../../lambdas/loader/load.ts';
import { bronzeKey } from '../../lambdas/core/bronze.ts';
import { putObjectBytes } from '../../lambdas/core/s3.ts';
import { ADDED_BRONZE_COLUMNS, BRONZE_COLUMNS, type Warehouse } from '../../lambdas/core/warehouse/types.ts';
import { startLocalS3, type LocalS3 } from '../../localstack/s3-server.ts';
import {
  TOPIC,
  bronzeRows,
  expectedRow,
  expectedRows,
  putBronze,
  records,
  type PutObject,
} from './bronze-fixtures.ts';

export interface WarehouseFactory {
  /** A new, empty warehouse for one test (fresh schema or file). */
  fresh(): Promise<{ open(): Promise<Warehouse>; dispose(): Promise<void> }>;
}

const H = (iso: string): Date => new Date(iso);
const BUCKET = 'bronze-test';

export function describeLoaderContract(name: string, factory: WarehouseFactory): void {
  describe(`Bronze loader on ${name}`, () => {
    let s3server: LocalS3;
    let s3: S3Client;
    let dir: string;
    let n = 0;

    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'mds-loader-s3-'));
      s3server = await startLocalS3({ directory: dir, buckets: [BUCKET] });
      s3 = s3server.client();
    });
    afterAll(async () => {
      s3?.destroy();
      await s3server?.close();
      await rm(dir, { recursive: true, force: true });
    });

    /** Bronze keys are fixed by event hour, so each test uses its own month, far outside the others' lookback. */
    function day(): string {
      n++;
      return `2026-${String(n).padStart(2, '0')}-15`;
    }

    async function withWarehouse(
      fn: (wh: Warehouse, open: () => Promise<Warehouse>) => Promise<void>,
    ): Promise<void> {
      const target = await factory.fresh();
      const wh = await target.open();
      try {
        await fn(wh, target.open);
      } finally {
        await wh.close();
        await target.dispose();
      }
    }

    it('loads a window exactly once, and a rerun adds nothing', async () => {
      await withWarehouse(async (wh) => {
        // Prepare: three hours, three objects each, one spanning a page of ListObjects is not needed here.
        const d = day();
        const objects: PutObject[] = [];
        for (const hh of ['10', '11', '12']) {
          for (let p = 0; p < 3; p++)
            objects.push(
              await putBronze(s3, BUCKET, H(`${d}T${hh}:00:00Z`), records(H(`${d}T${hh}:00:00Z`), 40 + p, p)),
            );
        }
        const req: LoadRequest = {
          windowStart: `${d}T10:00:00Z`,
          windowEnd: `${d}T13:00:00Z`,
          lookbackHours: 0,
        };

        // Act
        const first = await loadBronze({ s3, bucket: BUCKET, warehouse: wh }, req);
        const second = await loadBronze({ s3, bucket: BUCKET, warehouse: wh }, req);

        // Assess
        expect(first).toEqual({
          complete: true,
          objectsSeen: 9,
          objectsLoaded: 9,
          objectsSkipped: 0,
          objectsFailed: 0,
          rowsLoaded: 3 * 123,
          errors: [],
        });
        expect(second).toEqual({
          complete: true,
          objectsSeen: 9,
          objectsLoaded: 0,
          objectsSkipped: 9,
          objectsFailed: 0,
          rowsLoaded: 0,
          errors: [],
        });
        expect(await bronzeRows(wh)).toEqual(expectedRows(objects));
        const [loadedAt] = await wh.query<{ t: string }>(
          'SELECT min(loaded_at) AS t FROM bronze.listening_events',
        );
        expect(loadedAt?.t).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      });
    });

    it('migrates a Bronze table created before contract version 2: the new columns are added, v1 lines load with them null', async () => {
      await withWarehouse(async (wh) => {
        // Prepare: the table as the previous release created it (no album_name, track_length_ms, source).
        const d = day();
        const old = BRONZE_COLUMNS.filter((c) => !ADDED_BRONZE_COLUMNS.includes(c));
        await wh.query('CREATE SCHEMA IF NOT EXISTS bronze');
        await wh.query(
          `CREATE TABLE bronze.listening_events (${old.map((c) => `${c.name} ${c.type}`).join(', ')})`,
        );
        const objects = [await putBronze(s3, BUCKET, H(`${d}T10:00:00Z`), records(H(`${d}T10:00:00Z`), 12))];

        // Act
        const result = await loadBronze(
          { s3, bucket: BUCKET, warehouse: wh },
          { windowStart: `${d}T10:00:00Z`, windowEnd: `${d}T11:00:00Z`, lookbackHours: 0 },
        );

        // Assess: every column is there, in the order a new table has, and each line loaded as it is.
        expect(result.rowsLoaded).toBe(12);
        const columns = await wh.query<{ column_name: string }>(
          `SELECT column_name FROM information_schema.columns
            WHERE table_schema = 'bronze' AND table_name = 'listening_events' ORDER BY ordinal_position`,
        );
        expect(columns.map((c) => c.column_name)).toEqual(BRONZE_COLUMNS.map((c) => c.name));
        const rows = await bronzeRows(wh);
        expect(rows).toEqual(expectedRows(objects));
        expect(rows.filter((r) => r.schema_version === 1).map((r) => [r.album_name, r.source])).toEqual(
          Array.from({ length: 4 }, () => [null, null]),
        );
      });
    });

    it('picks up late objects of an old hour within the lookback, and only those', async () => {
      await withWarehouse(async (wh) => {
        // Prepare
        const d = day();
        const onTime = [await putBronze(s3, BUCKET, H(`${d}T05:00:00Z`), records(H(`${d}T05:00:00Z`), 30))];
        await loadBronze(
          { s3, bucket: BUCKET, warehouse: wh },
          { windowStart: `${d}T05:00:00Z`, windowEnd: `${d}T06:00:00Z` },
        );
        const late = [
          await putBronze(s3, BUCKET, H(`${d}T05:00:00Z`), records(H(`${d}T05:00:00Z`), 7, 1)),
          await putBronze(s3, BUCKET, H(`${d}T03:00:00Z`), records(H(`${d}T03:00:00Z`), 5, 2)),
        ];

        // Act: the next hourly run, whose window no longer contains those hours
        const result = await loadBronze(
          { s3, bucket: BUCKET, warehouse: wh },
          { windowStart: `${d}T06:00:00Z`, windowEnd: `${d}T07:00:00Z`, lookbackHours: 4 },
        );

        // Assess
        expect(result).toMatchObject({
          objectsSeen: 3,
          objectsLoaded: 2,
          objectsSkipped: 1,
          rowsLoaded: 12,
          errors: [],
        });
        expect(await bronzeRows(wh)).toEqual(expectedRows([...onTime, ...late]));
      });
    });

    it('recovers from a load interrupted midway: the rerun loads the rest exactly once', async () => {
      await withWarehouse(async (wh) => {
        // Prepare: six objects, batches of two; the fifth object's read fails, as if the task died there
        const d = day();
        const objects: PutObject[] = [];
        for (let p = 0; p < 6; p++)
          objects.push(
            await putBronze(s3, BUCKET, H(`${d}T08:00:00Z`), records(H(`${d}T08:00:00Z`), 20 + p, p)),
          );
        const victim = [...objects].map((o) => o.key).sort()[4];
        const crashing: Warehouse = Object.create(wh, {
          loadObjects: {
            value: (batch: Parameters<Warehouse['loadObjects']>[0]) =>
              wh.loadObjects({
                ...batch,
                fetch: async (key) => {
                  if (key === victim) throw new Error('connection reset');
                  return batch.fetch(key);
                },
              }),
          },
        }) as Warehouse;
        const req: LoadRequest = { windowStart: `${d}T08:00:00Z`, windowEnd: `${d}T09:00:00Z`, batchSize: 2 };

        // Act
        await expect(loadBronze({ s3, bucket: BUCKET, warehouse: crashing }, req)).rejects.toThrow(
          'connection reset',
        );
        const partialRows = (await bronzeRows(wh)).length;
        const rerun = await loadBronze({ s3, bucket: BUCKET, warehouse: wh }, req);

        // Assess: two batches committed before the crash, the rerun loads the last one
        expect(rerun).toMatchObject({ objectsSeen: 6, objectsLoaded: 2, objectsSkipped: 4, errors: [] });
        expect(partialRows).toBeGreaterThan(0);
        expect(await bronzeRows(wh)).toEqual(expectedRows(objects));
      });
    });

    it('lets two concurrent loaders of one window load each object exactly once', async () => {
      await withWarehouse(async (wh, open) => {
        // Prepare
        const d = day();
        const objects: PutObject[] = [];
        for (let p = 0; p < 12; p++)
          objects.push(await putBronze(s3, BUCKET, H(`${d}T14:00:00Z`), records(H(`${d}T14:00:00Z`), 15, p)));
        const other = await open();
        const req: LoadRequest = { windowStart: `${d}T14:00:00Z`, windowEnd: `${d}T15:00:00Z`, batchSize: 3 };

        // Act
        const [a, b] = await Promise.all([
          loadBronze({ s3, bucket: BUCKET, warehouse: wh }, req),
          loadBronze({ s3, bucket: BUCKET, warehouse: other }, req),
        ]).finally(() => other.close());

        // Assess
        expect(a.objectsLoaded + b.objectsLoaded).toBe(12);
        expect(a.rowsLoaded + b.rowsLoaded).toBe(12 * 15);
        expect([...a.errors, ...b.errors]).toEqual([]);
        expect(await bronzeRows(wh)).toEqual(expectedRows(objects));
      });
    });

    it('CONTINUE: loads the good lines, reports file and line of bad ones, and keeps reporting a truncated object', async () => {
      await withWarehouse(async (wh) => {
        // Prepare: one object with a malformed line and a bad value, one truncated gzip, one good object
        const d = day();
        const hour = H(`${d}T16:00:00Z`);
        const recs = records(hour, 6, 0);
        const lines = recs.map((r) => JSON.stringify(r));
        lines[1] = lines[1]!.slice(0, 40);
        lines[4] = JSON.stringify({ ...recs[4], timestamp: 'yesterday' });
        const bad = await putBronze(s3, BUCKET, hour, recs, lines);
        const truncatedKey = bronzeKey(hour, TOPIC, 1, 900, 950);
        const gz = gzipSync(
          records(hour, 50, 1)
            .map((r) => JSON.stringify(r))
            .join('\n') + '\n',
        );
        await putObjectBytes(s3, BUCKET, truncatedKey, gz.subarray(0, Math.floor(gz.length / 2)));
        const good = await putBronze(s3, BUCKET, hour, records(hour, 9, 2));
        const req: LoadRequest = {
          windowStart: `${d}T16:00:00Z`,
          windowEnd: `${d}T17:00:00Z`,
          lookbackHours: 0,
        };

        // Act
        const first = await loadBronze({ s3, bucket: BUCKET, warehouse: wh }, req);
        const second = await loadBronze({ s3, bucket: BUCKET, warehouse: wh }, req);

        // Assess
        expect(first).toMatchObject({
          objectsSeen: 3,
          objectsLoaded: 2,
          objectsFailed: 1,
          rowsLoaded: 4 + 9,
        });
        expect(first.errors).toEqual([
          { key: bad.key, line: 2, message: expect.stringContaining('malformed JSON') },
          { key: bad.key, line: 5, message: expect.stringContaining('timestamp') },
          { key: truncatedKey, message: expect.stringContaining('truncated') },
        ]);
        expect(second).toMatchObject({
          objectsLoaded: 0,
          objectsSkipped: 3,
          objectsFailed: 1,
          rowsLoaded: 0,
        });
        expect(second.errors).toEqual([
          { key: truncatedKey, message: expect.stringMatching(/not retried.*truncated/) },
        ]);
        const kept = [0, 2, 3, 5].map((i) => expectedRow(bad.key, i + 1, recs[i]!));
        expect(await bronzeRows(wh)).toEqual(
          [...kept, ...expectedRows([good])].sort((x, y) =>
            String(x.source_file) < String(y.source_file)
              ? -1
              : String(x.source_file) > String(y.source_file)
                ? 1
                : Number(x.source_row) - Number(y.source_row),
          ),
        );
        const manifest = await wh.manifestEntries([bad.key, truncatedKey, good.key]);
        expect(manifest.get(bad.key)).toMatchObject({ status: 'partial', rowsLoaded: 4, errorCount: 2 });
        expect(manifest.get(truncatedKey)).toMatchObject({ status: 'failed', rowsLoaded: 0 });
        expect(manifest.get(good.key)).toMatchObject({ status: 'loaded', rowsLoaded: 9, errorCount: 0 });

        // Act: the truncated object is written again, whole (new etag), and the next run retries it
        await putObjectBytes(s3, BUCKET, truncatedKey, gz);
        const third = await loadBronze({ s3, bucket: BUCKET, warehouse: wh }, req);

        // Assess
        expect(third).toMatchObject({ objectsLoaded: 1, objectsFailed: 0, rowsLoaded: 50, errors: [] });
        expect((await wh.manifestEntries([truncatedKey])).get(truncatedKey)).toMatchObject({
          status: 'loaded',
          rowsLoaded: 50,
        });
      });
    });

    it('SKIP_FILE marks the bad object failed; ABORT_STATEMENT loads and records nothing of the batch', async () => {
      await withWarehouse(async (wh) => {
        // Prepare
        const d = day();
        const hour = H(`${d}T18:00:00Z`);
        const recs = records(hour, 4, 0);
        const lines = recs.map((r) => JSON.stringify(r));
        lines[2] = '{"event_id": ';
        const bad = await putBronze(s3, BUCKET, hour, recs, lines);
        const good = await putBronze(s3, BUCKET, hour, records(hour, 3, 1));
        const req: LoadRequest = {
          windowStart: `${d}T18:00:00Z`,
          windowEnd: `${d}T19:00:00Z`,
          lookbackHours: 0,
        };

        // Act
        const aborted = await loadBronze(
          { s3, bucket: BUCKET, warehouse: wh },
          { ...req, onError: 'ABORT_STATEMENT' },
        );
        const rowsAfterAbort = (await bronzeRows(wh)).length;
        const skipped = await loadBronze(
          { s3, bucket: BUCKET, warehouse: wh },
          { ...req, onError: 'SKIP_FILE' },
        );

        // Assess
        expect(aborted).toMatchObject({ objectsLoaded: 0, objectsFailed: 2, rowsLoaded: 0 });
        expect(aborted.errors).toEqual([
          { key: bad.key, line: 3, message: expect.stringContaining('malformed JSON') },
        ]);
        expect(rowsAfterAbort).toBe(0);
        expect(skipped).toMatchObject({ objectsLoaded: 1, objectsFailed: 1, rowsLoaded: 3 });
        expect((await wh.manifestEntries([bad.key])).get(bad.key)).toMatchObject({
          status: 'failed',
          errorCount: 1,
        });
        expect(await bronzeRows(wh)).toEqual(expectedRows([good]));
      });
    });
  });
}
