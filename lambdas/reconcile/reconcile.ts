/**
 * Reconcile: after load and dbt, prove for the run's window that nothing was lost or doubled.
 *
 * Checks, each exact:
 *  - every Bronze object the warehouse holds has as many rows as the object has lines (its `records` metadata);
 *  - every Bronze object that existed before the run started is in the warehouse (nothing left behind);
 *  - Silver holds exactly the distinct events of the loaded Bronze rows (dedup removed duplicates only);
 *  - Gold's hourly events add up to Silver.
 * The counts (landed, quarantined, loaded, modelled) go into the run summary, with a glimpse of Gold.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { DataError } from '../shared/errors.ts';
import type { ReconcileCheck, RunSummary, RunWindow } from '../shared/run-summary.ts';
import { headObjectMetadata, listObjects, type ObjectSummary } from '../shared/s3.ts';
import type { Warehouse } from '../shared/warehouse/types.ts';
import { bronzePrefixes, quarantinePrefixes, sqlTimestamp } from '../shared/window.ts';

export interface ReconcileRequest {
  readonly runId: string;
  readonly window: RunWindow;
  /** When the run started: objects written before it must have been loaded. */
  readonly runStartedAt: string;
}

export interface ReconcileResult {
  readonly ok: boolean;
  readonly counts: RunSummary['counts'];
  readonly checks: readonly ReconcileCheck[];
  readonly gold: NonNullable<RunSummary['gold']>;
}

export class ReconciliationError extends DataError {}

export interface ReconcileDeps {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly warehouse: Warehouse;
}

/** How many objects' metadata to read at once. */
const HEAD_CONCURRENCY = 16;

export async function reconcileWindow(deps: ReconcileDeps, req: ReconcileRequest): Promise<ReconcileResult> {
  const { s3, bucket, warehouse } = deps;
  const { start, end } = req.window;

  const bronzeObjects = await listUnder(s3, bucket, bronzePrefixes(req.window));
  const landedByKey = await recordCounts(s3, bucket, bronzeObjects);
  const quarantineObjects = await listUnder(s3, bucket, quarantinePrefixes(req.window));
  const quarantinedByKey = await recordCounts(s3, bucket, quarantineObjects);

  const loadedRows = await warehouse.query<{ source_file: string; n: number }>(
    `select source_file, count(*) as n from bronze.listening_events
      where event_timestamp >= cast($1 as timestamp) and event_timestamp < cast($2 as timestamp)
      group by source_file`,
    [sqlTimestamp(start), sqlTimestamp(end)],
  );
  const loadedByKey = new Map(loadedRows.map((r) => [r.source_file, Number(r.n)]));

  const [bronzeDistinct] = await warehouse.query<{ n: number }>(
    `select count(distinct event_id) as n from bronze.listening_events
      where event_timestamp >= cast($1 as timestamp) and event_timestamp < cast($2 as timestamp)`,
    [sqlTimestamp(start), sqlTimestamp(end)],
  );
  const [silver] = await warehouse.query<{ n: number }>(
    `select count(*) as n from silver.stg_spotify__events
      where event_timestamp >= cast($1 as timestamp) and event_timestamp < cast($2 as timestamp)`,
    [sqlTimestamp(start), sqlTimestamp(end)],
  );
  const [gold] = await warehouse.query<{ n: number | null }>(
    `select sum(events) as n from gold.plays_per_hour
      where hour_start >= cast($1 as timestamp) and hour_start < cast($2 as timestamp)`,
    [sqlTimestamp(start), sqlTimestamp(end)],
  );

  // Objects the warehouse holds: their rows must equal their lines.
  let expectedLoaded = 0;
  const wrongObjects: string[] = [];
  for (const [key, rows] of loadedByKey) {
    const lines = landedByKey.get(key);
    expectedLoaded += lines ?? rows;
    if (lines === undefined) wrongObjects.push(`${key} (in the warehouse, not in the object store)`);
    else if (lines !== rows) wrongObjects.push(`${key} (${lines} lines, ${rows} rows)`);
  }
  const loaded = sum(loadedByKey.values());
  const startedAt = Date.parse(req.runStartedAt);
  // LastModified is truncated to the second: an object stamped in the run's first second may have been
  // written after the loader listed, so only objects stamped a whole second before the start must be loaded.
  const leftBehind = bronzeObjects.filter(
    (o) => !loadedByKey.has(o.key) && (o.lastModified?.getTime() ?? 0) + 1000 <= startedAt,
  );

  const modelled = Number(silver?.n ?? 0);
  const distinct = Number(bronzeDistinct?.n ?? 0);
  const goldEvents = Number(gold?.n ?? 0);
  const checks: ReconcileCheck[] = [
    check('bronze rows = object lines', expectedLoaded, loaded, wrongObjects.slice(0, 5).join('; ')),
    check(
      'objects landed before the run are loaded',
      0,
      leftBehind.length,
      leftBehind
        .slice(0, 5)
        .map((o) => o.key)
        .join('; '),
    ),
    check('silver rows = distinct bronze events', distinct, modelled),
    check('gold hourly events = silver rows', modelled, goldEvents),
  ];

  return {
    ok: checks.every((c) => c.ok),
    counts: {
      landed: sum(landedByKey.values()),
      quarantined: sum(quarantinedByKey.values()),
      loaded,
      modelled,
    },
    checks,
    gold: await goldGlimpse(warehouse, req.window),
  };
}

/** One exact check; the detail (what differs) is kept only when it fails. */
export function check(name: string, expected: number, actual: number, detail?: string): ReconcileCheck {
  const ok = expected === actual;
  return ok || !detail ? { name, expected, actual, ok } : { name, expected, actual, ok, detail };
}

async function listUnder(
  s3: S3Client,
  bucket: string,
  prefixes: readonly string[],
): Promise<ObjectSummary[]> {
  const out: ObjectSummary[] = [];
  for (const prefix of prefixes) for await (const o of listObjects(s3, bucket, prefix)) out.push(o);
  return out;
}

/** Lines per object, from the `records` metadata the consumer writes on every object. */
export async function recordCounts(
  s3: S3Client,
  bucket: string,
  objects: readonly ObjectSummary[],
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < objects.length; i += HEAD_CONCURRENCY) {
    const slice = objects.slice(i, i + HEAD_CONCURRENCY);
    const metas = await Promise.all(slice.map((o) => headObjectMetadata(s3, bucket, o.key)));
    slice.forEach((o, j) => {
      const n = Number(metas[j]?.records);
      if (!Number.isInteger(n) || n < 0) {
        throw new ReconciliationError(`s3://${bucket}/${o.key} has no valid 'records' metadata`);
      }
      counts.set(o.key, n);
    });
  }
  return counts;
}

export async function goldGlimpse(
  warehouse: Warehouse,
  window: RunWindow,
  limit = 10,
): Promise<NonNullable<RunSummary['gold']>> {
  // An integer we control, inlined: not every warehouse binds a LIMIT.
  const top = Math.max(1, Math.trunc(limit));
  const params = [sqlTimestamp(window.start), sqlTimestamp(window.end)];
  const playsPerHour = await warehouse.query<{ hour_start: string; plays: number }>(
    `select hour_start, plays from gold.plays_per_hour
      where hour_start >= cast($1 as timestamp) and hour_start < cast($2 as timestamp) order by hour_start`,
    params,
  );
  // The window's days: top lists are daily in Gold.
  const dayParams = [
    window.start.slice(0, 10),
    new Date(Date.parse(window.end) - 1).toISOString().slice(0, 10),
  ];
  const topTracks = await warehouse.query<{ song_name: string; artist_name: string; plays: number }>(
    `select song_name, artist_name, sum(plays) as plays from gold.top_tracks_daily
      where event_date between cast($1 as date) and cast($2 as date)
      group by song_id, song_name, artist_name order by plays desc, song_name limit ${top}`,
    dayParams,
  );
  const topArtists = await warehouse.query<{ artist_name: string; plays: number }>(
    `select artist_name, sum(plays) as plays from gold.top_artists_daily
      where event_date between cast($1 as date) and cast($2 as date)
      group by artist_name order by plays desc, artist_name limit ${top}`,
    dayParams,
  );
  const num = <T extends { plays: number }>(rows: T[]): T[] =>
    rows.map((r) => ({ ...r, plays: Number(r.plays) }));
  return { playsPerHour: num(playsPerHour), topTracks: num(topTracks), topArtists: num(topArtists) };
}

function sum(values: Iterable<number>): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}
