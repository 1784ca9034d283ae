/**
 * Reconcile: after load and dbt, prove for the run's window that nothing was lost, doubled or moved.
 *
 * Every check compares element by element, never a sum alone, so errors that cancel in a total still fail:
 *  - each Bronze object of the window has exactly its `records` lines in the warehouse, lines 1..records once
 *    each (an object that landed while the run was going is pending, not missing: the next run loads it);
 *  - no warehouse row of the window names a Bronze object that does not exist;
 *  - Silver's event ids are Bronze's distinct event ids, as sets: none missing, none extra, none twice;
 *  - each object that landed during the window for another hour (its arrival marker) is loaded the same way;
 *  - Gold's events per hour are Silver's events of that hour, hour by hour.
 * A failed check names the first few objects, ids or hours that differ. Every query is an aggregate (counts
 * per object or per hour, a handful of sample ids), so the cost does not grow with what is read back, and
 * the SQL is the portable subset DuckDB, Postgres and Snowflake share.
 *
 * The checks are a list (RECONCILE_CHECKS): one more is one more entry, reading the shared facts of the
 * window from the ReconcileContext.
 * The counts (landed, quarantined, loaded, modelled) go into the run summary, with a glimpse of Gold.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { BRONZE_PREFIX, bronzeKeyOfArrival, hourPartition } from '../core/bronze.ts';
import { DataError } from '../core/errors.ts';
import type { ReconcileCheck, RunSummary, RunWindow } from '../core/run-summary.ts';
import { headObject, headObjectMetadata, listObjects, type ObjectSummary } from '../core/s3.ts';
import type { Warehouse } from '../core/warehouse/types.ts';
import { arrivalPrefixes, bronzePrefixes, quarantinePrefixes, sqlTimestamp } from '../core/window.ts';

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

/** A Bronze object of the window and the lines it holds (its `records` metadata). */
export interface BronzeObject {
  readonly key: string;
  readonly records: number;
  readonly lastModified: Date | undefined;
}

/** What every check may read: the request, the window's Bronze objects, the bound window parameters. */
export interface ReconcileContext {
  readonly deps: ReconcileDeps;
  readonly request: ReconcileRequest;
  readonly bronzeObjects: readonly BronzeObject[];
  /** [start, end) of the window as timestamp literals, for `cast($n as timestamp)`. */
  readonly windowParams: readonly [string, string];
}

/** One reconciliation check: reads the warehouse (aggregates only) and says what differs. */
export interface ReconcileCheckDefinition {
  readonly name: string;
  run(ctx: ReconcileContext): Promise<ReconcileCheck>;
}

/** How many objects' metadata to read at once. */
const HEAD_CONCURRENCY = 16;
/** How many differing objects, ids or hours a failed check names. */
export const DETAIL_LIMIT = 5;

const IN_WINDOW = (column: string, first = 1) =>
  `${column} >= cast($${first} as timestamp) and ${column} < cast($${first + 1} as timestamp)`;

/** Each Bronze object of the window: its rows in the warehouse are exactly its lines, 1..records, once each. */
export const bronzeObjectsCheck: ReconcileCheckDefinition = {
  name: 'bronze rows = object records, per object',
  async run(ctx) {
    const rows = await rowsPerSourceFile(ctx);
    const startedAt = Date.parse(ctx.request.runStartedAt);
    let expected = 0;
    let actual = 0;
    let pending = 0;
    const wrong: string[] = [];
    for (const o of ctx.bronzeObjects) {
      const r = rows.get(o.key);
      // LastModified is truncated to the second: an object stamped in the run's first second may have been
      // written after the loader listed, so only objects stamped a whole second before the start must be loaded.
      if (!r && (o.lastModified?.getTime() ?? 0) + 1000 > startedAt) {
        pending += 1;
        continue;
      }
      expected += o.records;
      actual += r?.n ?? 0;
      const difference = objectDifference(o, r);
      if (difference) wrong.push(difference);
    }
    const checked = ctx.bronzeObjects.length - pending;
    return result(this.name, expected, actual, wrong.length === 0, () =>
      listed(`${wrong.length} of ${checked} objects differ`, wrong),
    );
  },
};

/** How an object's rows differ from its lines (lines 1..records, once each), or undefined when they do not. */
function objectDifference(o: BronzeObject, r: SourceFileRows | undefined): string | undefined {
  const n = r?.n ?? 0;
  const exact =
    n === o.records &&
    (o.records === 0 || (r?.distinctRows === o.records && r.firstRow === 1 && r.lastRow === o.records));
  if (exact) return undefined;
  if (!r) return `${o.key} (${o.records} records, not loaded)`;
  if (n !== o.records) return `${o.key} (${o.records} records, ${n} rows)`;
  return `${o.key} (${o.records} records, ${n} rows but ${r.distinctRows} distinct lines ${r.firstRow}..${r.lastRow})`;
}

/** Keys per `in (...)` list: well under every engine's limit on bound parameters. */
const KEYS_PER_QUERY = 200;

/**
 * The objects that landed during the window's hours for another hour (their arrival markers, bronze.ts):
 * each is in the warehouse with exactly its lines, like the window's own objects. An object of the window's
 * hours is checked by the per-object check already; a marker written in the run's first second or later is
 * pending (the next run loads it).
 */
export const lateArrivalsCheck: ReconcileCheckDefinition = {
  name: 'late objects that arrived in the window = their records, per object',
  async run(ctx) {
    const { s3, bucket, warehouse } = ctx.deps;
    const [lo, hi] = keyRange(ctx.request.window);
    const startedAt = Date.parse(ctx.request.runStartedAt);
    const keys = new Set<string>();
    for (const prefix of arrivalPrefixes(ctx.request.window)) {
      for await (const m of listObjects(s3, bucket, prefix)) {
        const key = bronzeKeyOfArrival(m.key);
        const due = (m.lastModified?.getTime() ?? 0) + 1000 <= startedAt;
        if (key !== undefined && due && !(key >= lo && key < hi)) keys.add(key);
      }
    }
    const sorted = [...keys].sort();
    // One HEAD per object, HEAD_CONCURRENCY at a time: whether it is there, and its records.
    const present: ObjectSummary[] = [];
    const records = new Map<string, number>();
    const gone: string[] = [];
    for (let i = 0; i < sorted.length; i += HEAD_CONCURRENCY) {
      const slice = sorted.slice(i, i + HEAD_CONCURRENCY);
      const heads = await Promise.all(slice.map((key) => headObject(s3, bucket, key)));
      slice.forEach((key, j) => {
        const o = heads[j];
        if (!o) gone.push(`${key} (marked as arrived, not in the object store)`);
        else {
          present.push(o);
          records.set(key, recordsOf(bucket, key, o.metadata));
        }
      });
    }
    const rows = new Map<string, SourceFileRows>();
    for (let i = 0; i < present.length; i += KEYS_PER_QUERY) {
      const slice = present.slice(i, i + KEYS_PER_QUERY).map((o) => o.key);
      const list = await warehouse.query<{
        source_file: string;
        n: number;
        d: number;
        lo: number;
        hi: number;
      }>(
        `select source_file, count(*) as n, count(distinct source_row) as d,
                min(source_row) as lo, max(source_row) as hi
           from bronze.listening_events
          where source_file in (${slice.map((_, j) => `$${j + 1}`).join(', ')})
          group by source_file`,
        slice,
      );
      for (const r of list) {
        rows.set(r.source_file, {
          n: Number(r.n),
          distinctRows: Number(r.d),
          firstRow: Number(r.lo),
          lastRow: Number(r.hi),
        });
      }
    }
    const wrong = [...gone];
    let expected = 0;
    for (const o of present) {
      const object = { key: o.key, records: records.get(o.key) ?? 0, lastModified: o.lastModified };
      expected += object.records;
      const difference = objectDifference(object, rows.get(o.key));
      if (difference) wrong.push(difference);
    }
    return result(this.name, expected, sum([...rows.values()].map((r) => r.n)), wrong.length === 0, () =>
      listed(`${wrong.length} of ${sorted.length} late objects differ`, wrong),
    );
  },
};

/** No warehouse row of the window (by event time or by object key) names an object the store does not hold. */
export const orphanRowsCheck: ReconcileCheckDefinition = {
  name: 'warehouse rows whose Bronze object does not exist',
  async run(ctx) {
    const rows = await rowsPerSourceFile(ctx);
    const listedKeys = new Set(ctx.bronzeObjects.map((o) => o.key));
    const [lo, hi] = keyRange(ctx.request.window);
    const orphans: { key: string; n: number }[] = [];
    const outside: { key: string; n: number }[] = [];
    for (const [key, r] of rows) {
      if (listedKeys.has(key)) continue;
      // The listing covers the window's key range; a key outside it (a row whose event time is in the
      // window, named after an object of another hour) is looked up on its own.
      if (key !== NO_SOURCE_FILE && !(key >= lo && key < hi)) outside.push({ key, n: r.n });
      else orphans.push({ key, n: r.n });
    }
    for (const o of outside) if (!(await headObject(ctx.deps.s3, ctx.deps.bucket, o.key))) orphans.push(o);
    orphans.sort((a, b) => a.key.localeCompare(b.key));
    const n = orphans.reduce((s, o) => s + o.n, 0);
    return result(this.name, 0, n, orphans.length === 0, () =>
      listed(
        `${orphans.length} missing objects`,
        orphans.map((o) => `${o.key} (${o.n} rows)`),
      ),
    );
  },
};

/** Silver's event ids of the window are Bronze's distinct event ids: none missing, none extra, none twice. */
export const silverEventsCheck: ReconcileCheckDefinition = {
  name: 'silver event ids = distinct bronze event ids',
  async run(ctx) {
    const { warehouse } = ctx.deps;
    const params = [...ctx.windowParams];
    const top = DETAIL_LIMIT;
    // One pass over both sides: how many ids are missing, extra or doubled. The ids themselves are read
    // only when some are, so a clean run pays for one aggregate query.
    const [counts] = await warehouse.query<{
      bronze_ids: number;
      silver_rows: number | null;
      missing: number | null;
      extra: number | null;
      doubled: number | null;
    }>(
      `select count(b.event_id) as bronze_ids, sum(s.n) as silver_rows,
              sum(case when s.n is null then 1 else 0 end) as missing,
              sum(case when b.event_id is null then 1 else 0 end) as extra,
              sum(case when s.n > 1 then 1 else 0 end) as doubled
         from (select distinct event_id from bronze.listening_events
                where ${IN_WINDOW('event_timestamp')} and event_id is not null) b
         full outer join (select event_id, count(*) as n from silver.stg_spotify__events
                           where ${IN_WINDOW('event_timestamp')} group by event_id) s
           on s.event_id = b.event_id`,
      params,
    );
    const flagged = {
      missing: Number(counts?.missing ?? 0),
      extra: Number(counts?.extra ?? 0),
      doubled: Number(counts?.doubled ?? 0),
    };
    const none: { event_id: string | null; n: number; total: number }[] = [];
    const missing = flagged.missing
      ? await warehouse.query<{ event_id: string; total: number }>(
          `select event_id, count(*) over () as total from (
             select distinct b.event_id from bronze.listening_events b
              where ${IN_WINDOW('b.event_timestamp')} and b.event_id is not null
                and not exists (select 1 from silver.stg_spotify__events s
                                 where s.event_id = b.event_id and ${IN_WINDOW('s.event_timestamp')})
           ) x order by event_id limit ${top}`,
          params,
        )
      : none;
    const extra = flagged.extra
      ? await warehouse.query<{ event_id: string | null; total: number }>(
          `select event_id, count(*) over () as total from (
             select distinct s.event_id from silver.stg_spotify__events s
              where ${IN_WINDOW('s.event_timestamp')}
                and not exists (select 1 from bronze.listening_events b
                                 where b.event_id = s.event_id and ${IN_WINDOW('b.event_timestamp')})
           ) x order by event_id limit ${top}`,
          params,
        )
      : none;
    const doubled = flagged.doubled
      ? await warehouse.query<{ event_id: string | null; n: number; total: number }>(
          `select event_id, n, count(*) over () as total from (
             select event_id, count(*) as n from silver.stg_spotify__events
              where ${IN_WINDOW('event_timestamp')} group by event_id having count(*) > 1
           ) x order by event_id limit ${top}`,
          params,
        )
      : none;
    const total = (rows: readonly { total: number }[]) => Number(rows[0]?.total ?? 0);
    const parts: string[] = [];
    if (total(missing)) {
      parts.push(`${total(missing)} missing from silver: ${missing.map((r) => r.event_id).join(', ')}`);
    }
    if (total(extra)) {
      parts.push(`${total(extra)} in silver, not in bronze: ${extra.map((r) => r.event_id).join(', ')}`);
    }
    if (total(doubled)) {
      const ids = doubled.map((r) => `${r.event_id} (${Number(r.n)} times)`).join(', ');
      parts.push(`${total(doubled)} more than once in silver: ${ids}`);
    }
    const ok = parts.length === 0 && flagged.missing + flagged.extra + flagged.doubled === 0;
    return result(this.name, Number(counts?.bronze_ids ?? 0), Number(counts?.silver_rows ?? 0), ok, () =>
      parts.length > 0
        ? `${parts.join('; ')} (the first ${DETAIL_LIMIT} of each, by id)`
        : `${flagged.missing} missing from silver, ${flagged.extra} not in bronze, ${flagged.doubled} more than once`,
    );
  },
};

/** Gold's events of each hour (gold.plays_per_hour) are Silver's events of that hour. */
export const goldHoursCheck: ReconcileCheckDefinition = {
  name: 'gold events per hour = silver events per hour',
  async run(ctx) {
    const { warehouse } = ctx.deps;
    const params = [...ctx.windowParams];
    const silver = await warehouse.query<{ hour_start: string; n: number }>(
      `select cast(date_trunc('hour', event_timestamp) as timestamp) as hour_start, count(*) as n
         from silver.stg_spotify__events where ${IN_WINDOW('event_timestamp')} group by 1`,
      params,
    );
    const gold = await warehouse.query<{ hour_start: string; n: number; rows_of_hour: number }>(
      `select hour_start, sum(events) as n, count(*) as rows_of_hour from gold.plays_per_hour
        where ${IN_WINDOW('hour_start')} group by hour_start`,
      params,
    );
    const bySilver = new Map(silver.map((r) => [String(r.hour_start), Number(r.n)]));
    const byGold = new Map(gold.map((r) => [String(r.hour_start), r]));
    const hours = [...new Set([...bySilver.keys(), ...byGold.keys()])].sort();
    const wrong: string[] = [];
    for (const h of hours) {
      const s = bySilver.get(h) ?? 0;
      const g = byGold.get(h);
      const gn = Number(g?.n ?? 0);
      if (s === gn && Number(g?.rows_of_hour ?? 1) === 1 && g) continue;
      if (!g) wrong.push(`${h} (silver ${s}, no gold row)`);
      else if (Number(g.rows_of_hour) > 1)
        wrong.push(`${h} (silver ${s}, gold ${gn} in ${g.rows_of_hour} rows)`);
      else wrong.push(`${h} (silver ${s}, gold ${gn})`);
    }
    return result(
      this.name,
      sum(bySilver.values()),
      sum([...byGold.values()].map((g) => Number(g.n))),
      wrong.length === 0,
      () => listed(`${wrong.length} of ${hours.length} hours differ`, wrong),
    );
  },
};

/** The checks every run makes, in order. */
export const RECONCILE_CHECKS: readonly ReconcileCheckDefinition[] = [
  bronzeObjectsCheck,
  orphanRowsCheck,
  lateArrivalsCheck,
  silverEventsCheck,
  goldHoursCheck,
];

export async function reconcileWindow(
  deps: ReconcileDeps,
  req: ReconcileRequest,
  checks: readonly ReconcileCheckDefinition[] = RECONCILE_CHECKS,
): Promise<ReconcileResult> {
  const { s3, bucket, warehouse } = deps;
  const windowParams = [sqlTimestamp(req.window.start), sqlTimestamp(req.window.end)] as const;

  const listing = await listUnder(s3, bucket, bronzePrefixes(req.window));
  const recordsByKey = await recordCounts(s3, bucket, listing);
  const bronzeObjects = listing.map((o) => ({
    key: o.key,
    records: recordsByKey.get(o.key) ?? 0,
    lastModified: o.lastModified,
  }));
  const quarantinedByKey = await recordCounts(
    s3,
    bucket,
    await listUnder(s3, bucket, quarantinePrefixes(req.window)),
  );

  const ctx: ReconcileContext = { deps, request: req, bronzeObjects, windowParams };
  const results: ReconcileCheck[] = [];
  for (const c of checks) results.push(await c.run(ctx));

  const [loaded] = await warehouse.query<{ n: number }>(
    `select count(*) as n from bronze.listening_events where ${IN_WINDOW('event_timestamp')}`,
    [...windowParams],
  );
  const [modelled] = await warehouse.query<{ n: number }>(
    `select count(*) as n from silver.stg_spotify__events where ${IN_WINDOW('event_timestamp')}`,
    [...windowParams],
  );

  return {
    ok: results.every((c) => c.ok),
    counts: {
      landed: sum(recordsByKey.values()),
      quarantined: sum(quarantinedByKey.values()),
      loaded: Number(loaded?.n ?? 0),
      modelled: Number(modelled?.n ?? 0),
    },
    checks: results,
    gold: await goldGlimpse(warehouse, req.window),
  };
}

/** What the function does once its dependencies are open: reconcile, and fail with ReconciliationError on a mismatch. */
export async function reconcileOrFail(
  deps: ReconcileDeps,
  request: ReconcileRequest,
): Promise<ReconcileResult> {
  return assertReconciled(await reconcileWindow(deps, request));
}

/** Fails with every mismatching check named, so the run's cause says what did not add up. */
export function assertReconciled(result: ReconcileResult): ReconcileResult {
  if (result.ok) return result;
  const bad = result.checks
    .filter((c) => !c.ok)
    .map((c) => `${c.name}: expected ${c.expected}, got ${c.actual}${c.detail ? ` (${c.detail})` : ''}`);
  throw new ReconciliationError(`reconciliation failed: ${bad.join('; ')}`);
}

/** One exact check; the detail (what differs) is kept only when it fails. */
export function check(name: string, expected: number, actual: number, detail?: string): ReconcileCheck {
  return result(name, expected, actual, expected === actual, () => detail ?? '');
}

/**
 * A check whose verdict is element by element: `ok` is not `expected === actual` (totals may agree while
 * two elements differ in opposite directions); the detail names what differs and is kept only on failure.
 */
export function result(
  name: string,
  expected: number,
  actual: number,
  ok: boolean,
  detail: () => string,
): ReconcileCheck {
  if (ok) return { name, expected, actual, ok };
  const text = detail();
  return text ? { name, expected, actual, ok, detail: text } : { name, expected, actual, ok };
}

/** "<what>: a; b; c" with the first DETAIL_LIMIT items, and how many more. */
function listed(what: string, items: readonly string[]): string {
  const more = items.length > DETAIL_LIMIT ? `; and ${items.length - DETAIL_LIMIT} more` : '';
  return `${what}: ${items.slice(0, DETAIL_LIMIT).join('; ')}${more}`;
}

/** The Bronze keys of a window, as a half-open key range: keys sort by date and hour. */
function keyRange(window: RunWindow): [string, string] {
  return [
    BRONZE_PREFIX + hourPartition(new Date(window.start)),
    BRONZE_PREFIX + hourPartition(new Date(window.end)),
  ];
}

/** The group key of rows without a source_file. */
const NO_SOURCE_FILE = '(no source_file)';

interface SourceFileRows {
  readonly n: number;
  readonly distinctRows: number;
  readonly firstRow: number;
  readonly lastRow: number;
}

const rowsCache = new WeakMap<ReconcileContext, Promise<Map<string, SourceFileRows>>>();

/**
 * Rows per source_file, for every object a row of the window names: by key (the window's objects) or by
 * event time (a row of the window attributed to any object). One aggregate query, shared by the checks.
 */
function rowsPerSourceFile(ctx: ReconcileContext): Promise<Map<string, SourceFileRows>> {
  let rows = rowsCache.get(ctx);
  if (!rows) {
    const [lo, hi] = keyRange(ctx.request.window);
    rows = ctx.deps.warehouse
      .query<{ source_file: string | null; n: number; d: number; lo: number; hi: number }>(
        `select source_file, count(*) as n, count(distinct source_row) as d,
                min(source_row) as lo, max(source_row) as hi
           from bronze.listening_events
          where (source_file >= $1 and source_file < $2) or (${IN_WINDOW('event_timestamp', 3)})
          group by source_file`,
        [lo, hi, ...ctx.windowParams],
      )
      .then(
        (list) =>
          new Map(
            list.map((r) => [
              r.source_file ?? NO_SOURCE_FILE,
              { n: Number(r.n), distinctRows: Number(r.d), firstRow: Number(r.lo), lastRow: Number(r.hi) },
            ]),
          ),
      );
    rowsCache.set(ctx, rows);
  }
  return rows;
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
    slice.forEach((o, j) => counts.set(o.key, recordsOf(bucket, o.key, metas[j] ?? {})));
  }
  return counts;
}

/** An object's line count, from the `records` metadata the consumer writes on every object. */
function recordsOf(bucket: string, key: string, metadata: Record<string, string>): number {
  const n = Number(metadata.records);
  if (!Number.isInteger(n) || n < 0) {
    throw new ReconciliationError(`s3://${bucket}/${key} has no valid 'records' metadata`);
  }
  return n;
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
  // The window's days, ranked as the dashboard ranks a range: streams, minutes, listener-days, then the id.
  const dayParams = [
    window.start.slice(0, 10),
    new Date(Date.parse(window.end) - 1).toISOString().slice(0, 10),
  ];
  const topTracks = await warehouse.query<{ song_name: string; artist_name: string; streams: number }>(
    `select min(song_name) as song_name, min(artist_name) as artist_name, sum(streams) as streams
       from gold.track_days
      where event_date between cast($1 as date) and cast($2 as date)
      group by song_id having sum(streams) > 0
      order by sum(streams) desc, sum(minutes_listened) desc, sum(listeners) desc, song_id limit ${top}`,
    dayParams,
  );
  const topArtists = await warehouse.query<{ artist_name: string; streams: number }>(
    `select artist_name, sum(streams) as streams from gold.artist_days
      where event_date between cast($1 as date) and cast($2 as date)
      group by artist_name having sum(streams) > 0
      order by sum(streams) desc, sum(minutes_listened) desc, sum(listeners) desc, artist_name limit ${top}`,
    dayParams,
  );
  const hours = playsPerHour.map((r) => ({ ...r, plays: Number(r.plays) }));
  const streamed = <T extends { streams: number }>(rows: T[]): T[] =>
    rows.map((r) => ({ ...r, streams: Number(r.streams) }));
  return { playsPerHour: hours, topTracks: streamed(topTracks), topArtists: streamed(topArtists) };
}

function sum(values: Iterable<number>): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}
