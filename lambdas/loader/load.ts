/**
 * The Bronze loader: loads every Bronze object of a window (plus a lookback for late objects) that the
 * warehouse's load manifest does not hold yet, exactly once per object however often a run is repeated.
 *
 * Objects are found by listing the `date=/hour=` prefixes of [windowStart - lookbackHours, windowEnd) with
 * full pagination, so an object that lands late in an old hour is picked up by the next run whose lookback
 * covers it. Manifest rules:
 * - `loaded` / `partial`: never loaded again (a changed etag is reported, not reloaded);
 * - `failed` (truncated gzip, SKIP_FILE, rejected by the engine): retried only when its etag changed, and
 *   reported in `errors` on every run until then, so it is never skipped silently.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { BRONZE_PREFIX, hourPartition } from '../shared/bronze.ts';
import { UsageError } from '../shared/errors.ts';
import { getObjectBytes, listObjects, type ObjectSummary } from '../shared/s3.ts';
import { chunks } from '../shared/warehouse/sql.ts';
import {
  LoadConflictError,
  ON_ERROR_POLICIES,
  type LoadError,
  type ManifestEntry,
  type ObjectToLoad,
  type OnErrorPolicy,
  type Warehouse,
} from '../shared/warehouse/types.ts';

export interface LoadRequest {
  readonly windowStart: string;
  readonly windowEnd: string;
  /** Hours before windowStart whose prefixes are listed too, for late objects. @default 48 */
  readonly lookbackHours?: number;
  /** @default 'CONTINUE' */
  readonly onError?: OnErrorPolicy;
  /** Objects per warehouse transaction. @default 500 */
  readonly batchSize?: number;
}

export interface LoadResult {
  objectsSeen: number;
  objectsLoaded: number;
  objectsSkipped: number;
  /** Objects that could not be loaded (this run, or earlier with the same etag). */
  objectsFailed: number;
  rowsLoaded: number;
  errors: { key: string; line?: number; message: string }[];
}

export interface LoadDeps {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly warehouse: Warehouse;
}

export const DEFAULT_LOOKBACK_HOURS = 48;
const HOUR_MS = 3_600_000;
const MAX_CONFLICT_RETRIES = 5;
/** Errors listed in a result; the Step Functions payload limit is 256 KB. The manifest keeps the rest. */
export const MAX_REPORTED_ERRORS = 200;

export async function loadBronze(deps: LoadDeps, req: LoadRequest): Promise<LoadResult> {
  const { start, end } = checkRequest(req);
  const onError = req.onError ?? 'CONTINUE';
  const batchSize = req.batchSize ?? 500;
  const result: LoadResult = {
    objectsSeen: 0,
    objectsLoaded: 0,
    objectsSkipped: 0,
    objectsFailed: 0,
    rowsLoaded: 0,
    errors: [],
  };

  const objects = new Map<string, ObjectSummary>();
  for (let t = start - (req.lookbackHours ?? DEFAULT_LOOKBACK_HOURS) * HOUR_MS; t < end; t += HOUR_MS) {
    for await (const o of listObjects(deps.s3, deps.bucket, BRONZE_PREFIX + hourPartition(new Date(t)))) {
      if (!o.key.endsWith('/')) objects.set(o.key, o);
    }
  }
  result.objectsSeen = objects.size;
  await deps.warehouse.ensureBronze();

  const keys = [...objects.keys()].sort();
  for (const batchKeys of chunks(keys, batchSize)) {
    let pending = batchKeys;
    for (let attempt = 0; pending.length > 0; attempt++) {
      const manifest = await deps.warehouse.manifestEntries(pending);
      const toLoad: ObjectToLoad[] = [];
      for (const key of pending) {
        const o = objects.get(key) as ObjectSummary;
        const decision = decide(o, manifest.get(key));
        if (decision.load) toLoad.push({ key, etag: o.etag, replacesFailed: decision.replacesFailed });
        else {
          result.objectsSkipped++;
          if (decision.failed) result.objectsFailed++;
          if (decision.error) result.errors.push(decision.error);
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
          result.errors.push(...o.errors);
          if (o.status === 'loaded' || o.status === 'partial') {
            result.objectsLoaded++;
            result.rowsLoaded += o.rowsLoaded;
          } else if (o.status === 'concurrent') result.objectsSkipped++;
          else result.objectsFailed++;
        }
        if (outcomes.some((o) => o.status === 'aborted')) return capErrors(result);
        pending = [];
      } catch (err) {
        // Another loader committed some of these objects first; re-read the manifest and load the rest.
        if (!(err instanceof LoadConflictError) || attempt >= MAX_CONFLICT_RETRIES) throw err;
        pending = toLoad.map((o) => o.key);
      }
    }
  }
  return capErrors(result);
}

function capErrors(result: LoadResult): LoadResult {
  const extra = result.errors.length - MAX_REPORTED_ERRORS;
  if (extra > 0) {
    result.errors = [
      ...result.errors.slice(0, MAX_REPORTED_ERRORS),
      { key: '', message: `${extra} more errors not listed; see bronze.load_manifest` },
    ];
  }
  return result;
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

function checkRequest(req: LoadRequest): { start: number; end: number } {
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
  return { start: Math.floor(start / HOUR_MS) * HOUR_MS, end };
}
