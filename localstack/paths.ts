/**
 * Where the local embedded default keeps its state, and the fixed local settings.
 * One data directory holds everything: broker logs, the S3 server's files, the DuckDB warehouse, run summaries.
 */
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../lambdas/core/errors.ts';
import { PROJECT_ROOT } from '../lib/constructs/project.ts';

export { PROJECT_ROOT };
export const DEFAULT_DATA_DIR = path.join(PROJECT_ROOT, '.mds-data');

export const LOCAL_DEFAULTS = {
  topic: 'spotify-events',
  partitions: 3,
  brokerPort: 9092,
  s3Port: 4569,
  dashboardPort: 3000,
  bucket: 'mds-local',
  region: 'us-east-1',
  consumerGroup: 'mds-bronze-landing',
  /** Execution environments of the Consumer function in the local pipeline. */
  consumerThreads: 2,
  /**
   * Local speed-ups over the consumer's event source mapping (reported as overrides): larger batches and a
   * shorter window than the deployed dev mapping's (1,000 records / 10 s), so a laptop lands a million events
   * in seconds. The template's retry limit and starting position are kept.
   */
  mappingOverrides: { batchSize: 10_000, batchingWindowMs: 1_000 },
  /**
   * V8 heap limits of the local service threads that are not Lambda functions (the broker, the producer of
   * `local up`): without them each thread's heap may grow to the process default (a quarter of RAM) before
   * V8 collects, which made most of the pipeline's peak memory while producing. Neither holds more than a
   * batch or a few thousand queued events at a time.
   */
  threadHeap: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 16 },
} as const;

export interface LocalPaths {
  readonly root: string;
  readonly broker: string;
  readonly s3: string;
  readonly warehouse: string;
  readonly runs: string;
  readonly state: string;
}

export function localPaths(dataDir: string = DEFAULT_DATA_DIR): LocalPaths {
  const root = path.resolve(dataDir);
  return {
    root,
    broker: path.join(root, 'broker'),
    s3: path.join(root, 's3'),
    warehouse: path.join(root, 'warehouse.duckdb'),
    runs: path.join(root, 'runs'),
    state: path.join(root, 'state.json'),
  };
}

/**
 * Creates a directory and its missing parents, one level at a time. `mkdir(dir, { recursive: true })` never
 * returns under /proc, /sys and similar file systems, where creating an entry fails with ENOENT although the
 * parent exists; here that fails at once with an error naming the setting (`what`, e.g. `--data`) and the fix.
 */
export async function ensureDirectory(dir: string, what: string): Promise<void> {
  const target = path.resolve(dir);
  const missing: string[] = [];
  for (let d = target; ; d = path.dirname(d)) {
    try {
      const st = await stat(d);
      if (!st.isDirectory()) throw fsFailure(what, target, `${d} is not a directory`);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsFailure(what, target, describe(err), err);
      missing.unshift(d);
      if (path.dirname(d) === d) break;
    }
  }
  for (const d of missing) {
    try {
      await mkdir(d);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue; // made meanwhile by someone else
      const reason =
        code === 'ENOENT'
          ? `${path.dirname(d)} does not take new directories (a virtual file system such as /proc or /sys?)`
          : describe(err);
      throw fsFailure(what, target, reason, err);
    }
  }
}

function fsFailure(what: string, dir: string, reason: string, cause?: unknown): UsageError {
  return new UsageError(
    `${what} ${dir}: cannot create it: ${reason}; pass a directory on a writable local disk`,
    { cause },
  );
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${e.path ?? ''})`;
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'the disk is full';
    case 'ENOTDIR':
      return 'a parent in the path is not a directory';
    default:
      return e.message;
  }
}
