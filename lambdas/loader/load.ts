/**
 * The Bronze loader: loads every Bronze object of a window (plus a lookback for late objects) that the
 * warehouse's load manifest does not hold yet, exactly once per object however often a run is repeated.
 *
 * Objects are found by listing the `date=/hour=` prefixes of [windowStart - lookbackHours, windowEnd) with
 * full pagination, so an object that lands late in an old hour is picked up by the next run whose lookback
 * covers it; and by arrival: the arrival markers (bronze.ts `arrivalKey`) of the landing hours
 * [windowStart - lookbackHours, windowEnd] name the objects that landed then for any other hour, so an
 * object landed days after its events' hour, beyond the lookback, is loaded by the next run too.
 * Manifest rules:
 * - `loaded` / `partial`: never loaded again (a changed etag is reported, not reloaded);
 * - `failed` (truncated gzip, SKIP_FILE, rejected by the engine): retried only when its etag changed, and
 *   reported in `errors` on every run until then, so it is never skipped silently.
 *
 * A long window (a backfill) does not fit one Lambda invocation: given a deadline, a call stops before it
 * and returns `complete: false` with the running total and where it stopped; the next call, given that
 * result as `previous`, goes on from there (the workflow loops LoadBronze until the load is complete).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  ARRIVALS_PREFIX,
  BRONZE_PREFIX,
  bronzeKeyOfArrival,
  hourOfKey,
  hourPartition,
} from '../core/bronze.ts';
import { UsageError } from '../core/errors.ts';
import { HOUR_MS } from '../core/window.ts';
import { getObjectBytes, headObject, listObjects, type ObjectSummary } from '../core/s3.ts';
import {
  LoadConflictError,
  ON_ERROR_POLICIES,
  type LoadError,
  type ManifestEntry,
  type ObjectToLoad,
  type OnErrorPolicy,
  type Warehouse,
} from '../core/warehouse/types.ts';

export interface LoadRequest {
  readonly windowStart: string;
  readonly windowEnd: string;
  /** Hours before windowStart whose prefixes are listed too, for late objects. @default 48 */
  readonly lookbackHours?: number;
  /** @default 'CONTINUE' */
  readonly onError?: OnErrorPolicy;
  /** Objects per warehouse transaction. @default 500 */
  readonly batchSize?: number;
  /**
   * A batch also ends at the object that brings its compressed size to this many bytes, so a busy hour's
   * objects are not all held in memory at once (the loader decodes a batch before it inserts it).
   * @default DEFAULT_BATCH_BYTES
   */
  readonly batchBytes?: number;
  /**
   * When the call must have returned, in epoch milliseconds (a Lambda's deadline). No hour is listed and
   * no batch started once less than the margin is left (the slowest batch so far plus
   * DEADLINE_SAFETY_MS); the result is then `complete: false`. @default no deadline
   */
  readonly deadlineMs?: number;
  /**
   * The result of the previous call of this load when it was `complete: false`: the load goes on where
   * that call stopped and returns the running total. `null` or absent: the load starts at the beginning.
   * Window, lookback, batch size and policy must be those of the previous call.
   */
  readonly previous?: LoadResult | null;
}

export interface LoadResult {
  /**
   * True when the whole window has been dealt with (or ABORT_STATEMENT stopped the load): the counts are
   * the load's. False when the call stopped before its deadline: call again with this result as
   * `previous`; the counts so far are a running total.
   */
  complete: boolean;
  objectsSeen: number;
  objectsLoaded: number;
  objectsSkipped: number;
  /** Objects that could not be loaded (this run, or earlier with the same etag). */
  objectsFailed: number;
  rowsLoaded: number;
  errors: { key: string; line?: number; message: string }[];
  /**
   * Only when not complete: every Bronze key of the window that sorts at or before this one (an object
   * key, or an hour prefix `bronze/date=.../hour=HH/`) has been dealt with; keys are handled in order.
   */
  resumeAfter?: string;
  /** Only when not complete: the longest a batch has taken so far, in ms; it sets the next call's margin. */
  slowestBatchMs?: number;
  /** Only when not complete and over MAX_REPORTED_ERRORS: the errors so far that `errors` does not list. */
  errorsNotListed?: number;
  /** Only when not complete: ABORT_STATEMENT stopped the load; the rest of the window is only counted. */
  aborted?: true;
}

export interface LoadDeps {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly warehouse: Warehouse;
  /** The clock the deadline is read against, in epoch ms. @default Date.now */
  readonly now?: () => number;
}

export const DEFAULT_LOOKBACK_HOURS = 48;
const MAX_CONFLICT_RETRIES = 5;
/** Errors listed in a result; the Step Functions payload limit is 256 KB. The manifest keeps the rest. */
export const MAX_REPORTED_ERRORS = 200;

/** 16 MiB of gzip NDJSON: about 250,000 events, some 100 MB decoded. */
export const DEFAULT_BATCH_BYTES = 16 * 1024 * 1024;
/**
 * Time kept free before a deadline on top of the slowest batch so far: for returning the result, closing
 * the warehouse session and a batch slower than any before it.
 */
export const DEADLINE_SAFETY_MS = 30_000;

/** The running total of a load, carried from call to call. */
interface Totals {
  objectsSeen: number;
  objectsLoaded: number;
  objectsSkipped: number;
  objectsFailed: number;
  rowsLoaded: number;
  /** The first MAX_REPORTED_ERRORS errors, in the order met. */
  errors: LoadError[];
  errorsNotListed: number;
}

/**
 * Loads the window's new Bronze objects, hour prefix by hour prefix in key order, in batches of
 * `batchSize` over the sorted keys. The batches do not depend on where calls stop: a call stops only
 * before listing an hour or before a batch, and the next one starts right after the last key dealt with,
 * so the batches, the manifest and the totals of a load split over several calls are those of one call.
 * Every call makes progress (at least one hour listed past or one batch loaded), whatever its deadline.
 */
export async function loadBronze(deps: LoadDeps, req: LoadRequest): Promise<LoadResult> {
  const { listStart, end } = checkRequest(req);
  const previous = req.previous ?? null;
  if (previous?.complete) return previous;
  const onError = req.onError ?? 'CONTINUE';
  const batchSize = req.batchSize ?? 500;
  const batchBytes = req.batchBytes ?? DEFAULT_BATCH_BYTES;
  const now = deps.now ?? Date.now;
  const deadline = req.deadlineMs ?? Number.POSITIVE_INFINITY;
  const totals = startTotals(previous);
  // Listed only where a call needs them: before the listed hours, past them, or to check a cursor among
  // them. A backfill continued over many calls then lists its arrival hours twice, not once per call.
  let arrivals: Promise<ObjectSummary[]> | undefined;
  const arrived = (): Promise<ObjectSummary[]> => (arrivals ??= arrivedOutside(deps, listStart, end));
  const startCursor = previous ? await checkCursor(previous, listStart, end, arrived) : '';
  /** Every key at or before it is dealt with ('' = none). */
  let cursor = startCursor;
  let slowestBatchMs = previous?.slowestBatchMs ?? 0;
  let aborted = previous?.aborted === true;

  const stopHere = (): boolean =>
    cursor !== startCursor && deadline - now() < slowestBatchMs + DEADLINE_SAFETY_MS;
  const partial = (): LoadResult => ({
    complete: false,
    ...counts(totals),
    errors: listedErrors(totals),
    resumeAfter: cursor,
    slowestBatchMs,
    ...(totals.errorsNotListed > 0 ? { errorsNotListed: totals.errorsNotListed } : {}),
    ...(aborted ? { aborted: true as const } : {}),
  });
  const loadBatch = async (batch: readonly ObjectSummary[]): Promise<void> => {
    const t0 = now();
    aborted = await loadObjects(deps, batch, onError, totals);
    slowestBatchMs = Math.max(slowestBatchMs, now() - t0);
    cursor = (batch.at(-1) as ObjectSummary).key;
  };

  if (!aborted) await deps.warehouse.ensureBronze();
  /** Listed keys after the cursor, not yet loaded: fewer than batchSize between batches. */
  const pending: ObjectSummary[] = [];
  /** Takes listed objects (sorted, after the cursor) in; false when the call must stop before a batch. */
  const take = async (listed: readonly ObjectSummary[]): Promise<boolean> => {
    if (aborted) {
      totals.objectsSeen += listed.length;
      return true;
    }
    pending.push(...listed);
    for (let n = fullBatch(pending, batchSize, batchBytes); n > 0 && !aborted;) {
      if (stopHere()) return false;
      await loadBatch(pending.splice(0, n));
      n = fullBatch(pending, batchSize, batchBytes);
    }
    // After an abort the rest of the window is only counted, as one call would have listed it.
    if (aborted) totals.objectsSeen += pending.splice(0).length;
    return true;
  };
  const firstHourKey = BRONZE_PREFIX + hourPartition(new Date(listStart));
  const lastHourKey = BRONZE_PREFIX + hourPartition(new Date(end));
  // Keys sort by hour: objects of hours before the listed ones first, the listed hours, then later hours.
  if (cursor < firstHourKey) {
    const early = (await arrived()).filter((o) => o.key < firstHourKey && o.key > cursor);
    if (!(await take(early))) return partial();
  }
  const cursorHour = cursor ? (hourOfKey(cursor) as Date).getTime() : listStart;
  for (let t = Math.max(listStart, cursorHour); t < end; t += HOUR_MS) {
    if (stopHere()) return partial();
    const prefix = BRONZE_PREFIX + hourPartition(new Date(t));
    const listed: ObjectSummary[] = [];
    const startAfter = cursor.startsWith(prefix) && cursor !== prefix ? cursor : undefined;
    for await (const o of listObjects(deps.s3, deps.bucket, prefix, startAfter)) {
      if (!o.key.endsWith('/') && o.key > cursor) listed.push(o);
    }
    listed.sort(byKey);
    if (!(await take(listed))) return partial();
    if (pending.length === 0) cursor = BRONZE_PREFIX + hourPartition(new Date(t + HOUR_MS));
  }
  const later = (await arrived()).filter((o) => o.key >= lastHourKey && o.key > cursor);
  if (!(await take(later))) return partial();
  if (pending.length > 0) {
    if (stopHere()) return partial();
    await loadBatch(pending.splice(0));
  }
  return { complete: true, ...counts(totals), errors: cappedErrors(totals) };
}

/**
 * How many of the pending objects make the next full batch: `batchSize`, or fewer when their compressed
 * size reaches `batchBytes` first; 0 while they are not yet a full batch. Decided by the sorted keys and
 * sizes alone, so the batches are the same however the load is split over calls.
 */
function fullBatch(pending: readonly ObjectSummary[], batchSize: number, batchBytes: number): number {
  let bytes = 0;
  for (let i = 0; i < pending.length && i < batchSize; i++) {
    bytes += (pending[i] as ObjectSummary).size;
    if (bytes >= batchBytes) return i + 1;
  }
  return pending.length >= batchSize ? batchSize : 0;
}

/** HeadObject calls in flight when reading the objects arrival markers name. */
const HEAD_CONCURRENCY = 16;

/**
 * The objects that arrival markers of the landing hours [listStart, end] name and the event-hour listing
 * of [listStart, end) does not reach, sorted by key. The hour `end` itself is included: a run started in
 * the hour after its window sees what landed since the hour began. A marker whose object is gone (expired
 * or deleted) names nothing to load.
 */
export async function arrivedOutside(
  deps: LoadDeps,
  listStart: number,
  end: number,
): Promise<ObjectSummary[]> {
  const keys = new Set<string>();
  for (let t = listStart; t <= end; t += HOUR_MS) {
    for await (const m of listObjects(deps.s3, deps.bucket, ARRIVALS_PREFIX + hourPartition(new Date(t)))) {
      const key = bronzeKeyOfArrival(m.key);
      const hour = key === undefined ? undefined : hourOfKey(key)?.getTime();
      if (key !== undefined && hour !== undefined && (hour < listStart || hour >= end)) keys.add(key);
    }
  }
  const sorted = [...keys].sort();
  const found: ObjectSummary[] = [];
  for (let i = 0; i < sorted.length; i += HEAD_CONCURRENCY) {
    const heads = await Promise.all(
      sorted.slice(i, i + HEAD_CONCURRENCY).map((k) => headObject(deps.s3, deps.bucket, k)),
    );
    for (const h of heads) if (h) found.push(h);
  }
  return found;
}

/** Loads one batch, counting each object into the totals; true when ABORT_STATEMENT stopped it. */
async function loadObjects(
  deps: LoadDeps,
  batch: readonly ObjectSummary[],
  onError: OnErrorPolicy,
  totals: Totals,
): Promise<boolean> {
  const objects = new Map(batch.map((o) => [o.key, o]));
  const report = (errors: readonly LoadError[]) => {
    for (const e of errors) {
      if (totals.errors.length < MAX_REPORTED_ERRORS) totals.errors.push(e);
      else totals.errorsNotListed++;
    }
  };
  totals.objectsSeen += batch.length;
  let pending = batch.map((o) => o.key);
  for (let attempt = 0; pending.length > 0; attempt++) {
    const manifest = await deps.warehouse.manifestEntries(pending);
    const toLoad: ObjectToLoad[] = [];
    for (const key of pending) {
      const o = objects.get(key) as ObjectSummary;
      const decision = decide(o, manifest.get(key));
      if (decision.load) toLoad.push({ key, etag: o.etag, replacesFailed: decision.replacesFailed });
      else {
        totals.objectsSkipped++;
        if (decision.failed) totals.objectsFailed++;
        if (decision.error) report([decision.error]);
      }
    }
    if (toLoad.length === 0) break;
    try {
      const outcomes = await deps.warehouse.loadObjects({
        objects: toLoad,
        onError,
        fetch: (key) => getObjectBytes(deps.s3, deps.bucket, key),
      });
      for (const o of outcomes) {
        report(o.errors);
        if (o.status === 'loaded' || o.status === 'partial') {
          totals.objectsLoaded++;
          totals.rowsLoaded += o.rowsLoaded;
        } else if (o.status === 'concurrent') totals.objectsSkipped++;
        else totals.objectsFailed++;
      }
      return outcomes.some((o) => o.status === 'aborted');
    } catch (err) {
      // Another loader committed some of these objects first; re-read the manifest and load the rest.
      if (!(err instanceof LoadConflictError) || attempt >= MAX_CONFLICT_RETRIES) throw err;
      pending = toLoad.map((o) => o.key);
    }
  }
  return false;
}

const COUNTS = ['objectsSeen', 'objectsLoaded', 'objectsSkipped', 'objectsFailed', 'rowsLoaded'] as const;

function byKey(a: ObjectSummary, b: ObjectSummary): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function counts(t: Totals | LoadResult): Pick<Totals, (typeof COUNTS)[number]> {
  return {
    objectsSeen: t.objectsSeen,
    objectsLoaded: t.objectsLoaded,
    objectsSkipped: t.objectsSkipped,
    objectsFailed: t.objectsFailed,
    rowsLoaded: t.rowsLoaded,
  };
}

function listedErrors(t: Totals): LoadError[] {
  return [...t.errors];
}

/** The errors of a finished load: the first MAX_REPORTED_ERRORS and a line saying how many more there were. */
function cappedErrors(t: Totals): LoadError[] {
  if (t.errorsNotListed === 0) return listedErrors(t);
  return [
    ...t.errors,
    { key: '', message: `${t.errorsNotListed} more errors not listed; see bronze.load_manifest` },
  ];
}

function startTotals(previous: LoadResult | null): Totals {
  if (!previous) {
    return {
      objectsSeen: 0,
      objectsLoaded: 0,
      objectsSkipped: 0,
      objectsFailed: 0,
      rowsLoaded: 0,
      errors: [],
      errorsNotListed: 0,
    };
  }
  return {
    ...counts(previous),
    errors: previous.errors.slice(0, MAX_REPORTED_ERRORS),
    errorsNotListed: previous.errorsNotListed ?? 0,
  };
}

type Decision = { load: true; replacesFailed: boolean } | { load: false; failed: boolean; error?: LoadError };

function decide(o: ObjectSummary, entry: ManifestEntry | undefined): Decision {
  if (!entry) return { load: true, replacesFailed: false };
  const changed = (o.etag ?? null) !== entry.etag;
  if (entry.status === 'failed') {
    if (changed) return { load: true, replacesFailed: true };
    return {
      load: false,
      failed: true,
      error: {
        key: o.key,
        message: `failed on ${entry.loadedAt} and unchanged since, so not retried: ${entry.firstError ?? 'no detail'}`,
      },
    };
  }
  if (changed) {
    return {
      load: false,
      failed: false,
      error: {
        key: o.key,
        message: `changed after it was loaded on ${entry.loadedAt} (etag ${entry.etag} -> ${o.etag}); not reloaded`,
      },
    };
  }
  return { load: false, failed: false };
}

function checkRequest(req: LoadRequest): { listStart: number; end: number } {
  const start = Date.parse(req.windowStart);
  const end = Date.parse(req.windowEnd);
  if (Number.isNaN(start))
    throw new UsageError(`windowStart: ${JSON.stringify(req.windowStart)} is not an ISO-8601 instant`);
  if (Number.isNaN(end))
    throw new UsageError(`windowEnd: ${JSON.stringify(req.windowEnd)} is not an ISO-8601 instant`);
  if (end <= start)
    throw new UsageError(
      `the window is empty: windowEnd ${req.windowEnd} is not after windowStart ${req.windowStart}`,
    );
  const lookback = req.lookbackHours ?? DEFAULT_LOOKBACK_HOURS;
  if (!Number.isInteger(lookback) || lookback < 0 || lookback > 24 * 366) {
    throw new UsageError(`lookbackHours: ${lookback} is not a whole number of hours between 0 and 8784`);
  }
  if (req.onError !== undefined && !ON_ERROR_POLICIES.includes(req.onError)) {
    throw new UsageError(
      `onError: ${JSON.stringify(req.onError)} is not one of ${ON_ERROR_POLICIES.join(', ')}`,
    );
  }
  if (req.batchSize !== undefined && (!Number.isInteger(req.batchSize) || req.batchSize < 1)) {
    throw new UsageError(`batchSize: ${req.batchSize} is not a positive integer`);
  }
  if (req.batchBytes !== undefined && (!Number.isInteger(req.batchBytes) || req.batchBytes < 1)) {
    throw new UsageError(`batchBytes: ${req.batchBytes} is not a positive whole number of bytes`);
  }
  if (req.deadlineMs !== undefined && !Number.isFinite(req.deadlineMs)) {
    throw new UsageError(`deadlineMs: ${JSON.stringify(req.deadlineMs)} is not a time in epoch milliseconds`);
  }
  const hourStart = Math.floor(start / HOUR_MS) * HOUR_MS;
  return { listStart: hourStart - lookback * HOUR_MS, end };
}

/** The cursor of an unfinished previous result, checked to lie in the hours this load lists or its arrivals. */
async function checkCursor(
  previous: LoadResult,
  listStart: number,
  end: number,
  arrived: () => Promise<readonly ObjectSummary[]>,
): Promise<string> {
  const cursor = previous.resumeAfter;
  if (typeof cursor !== 'string' || !cursor.startsWith(BRONZE_PREFIX)) {
    throw new UsageError(
      `previous.resumeAfter: ${JSON.stringify(cursor)} is not a Bronze key; pass the result of the previous call as it was returned`,
    );
  }
  const hour = hourOfKey(cursor)?.getTime();
  // In a listed hour, at the end of the listed hours (before the later arrived objects), or one of those.
  const listedHour = hour !== undefined && hour >= listStart && hour < end;
  const endOfHours = cursor === BRONZE_PREFIX + hourPartition(new Date(end));
  if (!listedHour && !endOfHours && !(await arrived()).some((o) => o.key === cursor)) {
    throw new UsageError(
      `previous.resumeAfter: ${JSON.stringify(cursor)} is not in the hours this load lists (${new Date(listStart).toISOString()} to ${new Date(end).toISOString()}); the previous result belongs to another window`,
    );
  }
  for (const name of COUNTS) {
    const v = previous[name];
    if (!Number.isInteger(v) || v < 0) {
      throw new UsageError(`previous.${name}: ${JSON.stringify(v)} is not a count`);
    }
  }
  if (!Array.isArray(previous.errors)) throw new UsageError('previous.errors is not a list');
  return cursor;
}
