/**
 * `npm run bench -- loader`: 1,000,000 Bronze events loaded into DuckDB by the Bronze loader (list, read
 * through the S3 SDK from the local S3 server, gunzip, one bulk INSERT ... SELECT FROM read_ndjson per
 * batch, manifest) beside the seeds' method (parse each line, one INSERT per row) measured on a sample in
 * the same run and extrapolated. Prints both rates and the ratio (target >= 100x).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { loadBronze } from '../lambdas/loader/load.ts';
import { bronzeKey, type BronzeRecord } from '../lambdas/core/bronze.ts';
import { putObjectBytes } from '../lambdas/core/s3.ts';
import { openDuckDbWarehouse } from '../lambdas/core/warehouse/duckdb.ts';
import { EVENT_COLUMNS, LOAD_COLUMNS } from '../lambdas/core/warehouse/types.ts';
import { startLocalS3 } from '../localstack/s3-server.ts';

const EVENTS = 1_000_000;
const OBJECTS = 100;
const ROW_BY_ROW_SAMPLE = 3_000;
const RUNS = 3;
const BUCKET = 'bench';
const HOUR = new Date('2026-06-01T10:00:00Z');

export default async function (): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mds-bench-loader-'));
  const s3server = await startLocalS3({ directory: path.join(dir, 's3'), buckets: [BUCKET] });
  const s3 = s3server.client();
  try {
    const perObject = EVENTS / OBJECTS;
    const bodies: Buffer[] = [];
    for (let o = 0; o < OBJECTS; o++) {
      const lines: string[] = [];
      for (let i = 0; i < perObject; i++) lines.push(JSON.stringify(event(o * perObject + i)));
      const body = gzipSync(lines.join('\n') + '\n', { level: 1 });
      bodies.push(body);
      await putObjectBytes(
        s3,
        BUCKET,
        bronzeKey(HOUR, 'spotify-events', 0, o * perObject, (o + 1) * perObject - 1),
        body,
      );
    }
    const req = {
      windowStart: HOUR.toISOString(),
      windowEnd: new Date(HOUR.getTime() + 3_600_000).toISOString(),
      lookbackHours: 0,
    };

    // Bulk and row-by-row runs alternate, so each pair sees the same machine load; the ratio is the
    // median of the per-pair ratios.
    const sampleLines = gunzipSync(bodies[0] as Buffer)
      .toString('utf8')
      .split('\n')
      .slice(0, ROW_BY_ROW_SAMPLE);
    const bulk: number[] = [];
    const rowByRow: number[] = [];
    const ratios: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const b = await bulkRun(path.join(dir, `bulk-${run}.duckdb`), s3, req);
      const r = await rowByRowRun(path.join(dir, `rows-${run}.duckdb`), sampleLines);
      bulk.push(b);
      rowByRow.push(r);
      ratios.push(b / r);
      console.log(
        `  run ${run + 1}: bulk ${Math.round(b).toLocaleString('en-US')} events/s, ` +
          `one INSERT per row ${Math.round(r).toLocaleString('en-US')} events/s`,
      );
    }

    const bulkRate = median(bulk);
    const rowRate = median(rowByRow);
    console.log(
      `bulk (loader, S3 -> DuckDB):  ${Math.round(bulkRate).toLocaleString('en-US')} events/s (median of ${RUNS}); 1M events in ${(EVENTS / bulkRate).toFixed(2)} s`,
    );
    console.log(
      `one INSERT per row (seeds):  ${Math.round(rowRate).toLocaleString('en-US')} events/s (median of ${RUNS}, ${ROW_BY_ROW_SAMPLE} events); 1M events extrapolated: ${(EVENTS / rowRate / 60).toFixed(1)} min`,
    );
    console.log(`ratio: ${median(ratios).toFixed(0)}x (median of per-run ratios; target >= 100x)`);
  } finally {
    s3.destroy();
    await s3server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function bulkRun(
  file: string,
  s3: S3Client,
  req: { windowStart: string; windowEnd: string; lookbackHours: number },
): Promise<number> {
  const wh = await openDuckDbWarehouse({ path: file });
  await wh.ensureBronze();
  const t0 = performance.now();
  const result = await loadBronze({ s3, bucket: BUCKET, warehouse: wh }, req);
  const seconds = (performance.now() - t0) / 1000;
  await wh.close();
  if (result.rowsLoaded !== EVENTS || result.errors.length > 0) {
    throw new Error(`bulk load loaded ${result.rowsLoaded} rows with ${result.errors.length} errors`);
  }
  return EVENTS / seconds;
}

/**
 * The seeds' method on a sample: parse each line, one parameterised INSERT per row. All rows in one
 * transaction (psycopg's default; autocommit per row, the Snowflake connector's default, is several
 * times slower still), so the ratio is the conservative one.
 */
async function rowByRowRun(file: string, lines: readonly string[]): Promise<number> {
  const columns = LOAD_COLUMNS.map((c) => c.name).join(', ');
  const placeholders = LOAD_COLUMNS.map((_, i) => `$${i + 1}`).join(', ');
  const wh = await openDuckDbWarehouse({ path: file });
  await wh.ensureBronze();
  const t0 = performance.now();
  await wh.connection.run('BEGIN TRANSACTION');
  for (const [i, line] of lines.entries()) {
    const r = JSON.parse(line) as Record<string, string | number>;
    const values = [
      ...EVENT_COLUMNS.map((c) => r[c.field] ?? null),
      'sample',
      i + 1,
      new Date().toISOString(),
    ];
    await wh.connection.run(
      `INSERT INTO bronze.listening_events (${columns}) VALUES (${placeholders})`,
      values,
    );
  }
  await wh.connection.run('COMMIT');
  const seconds = (performance.now() - t0) / 1000;
  await wh.close();
  return lines.length / seconds;
}

function event(i: number): BronzeRecord {
  const ts = new Date(HOUR.getTime() + (i % 3_600_000));
  return {
    event_id: randomUUID(),
    user_id: `user-${i % 5000}`,
    song_id: `song-${i % 20000}`,
    artist_name: `Artist ${i % 3000}`,
    song_name: `Song ${i % 20000}`,
    event_type: (['play', 'pause', 'skip', 'add_to_playlist'] as const)[i % 4] as BronzeRecord['event_type'],
    device_type: (['mobile', 'desktop', 'web'] as const)[i % 3] as NonNullable<BronzeRecord['device_type']>,
    country: 'US',
    timestamp: ts.toISOString(),
    duration_ms: (i * 37) % 300_000,
    schema_version: 1,
    _topic: 'spotify-events',
    _partition: 0,
    _offset: i,
    _kafka_timestamp: new Date(ts.getTime() + 250).toISOString(),
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}
