/**
 * The local pipeline's state on disk: a lock so that only one `mds local up` uses a data directory at a time,
 * the addresses of the running services (for `mds status`), and the run records under runs/.
 */
import { mkdir, open, readFile, readdir, rm, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { MdsError } from '../lambdas/shared/errors.ts';
import type { RunSummary } from '../lambdas/shared/run-summary.ts';
import { localPaths } from './paths.ts';

export interface ServicesState {
  readonly pid: number;
  readonly startedAt: string;
  readonly broker?: string;
  readonly s3?: string;
  readonly dashboard?: string;
}

export interface Lock {
  update(state: Omit<ServicesState, 'pid' | 'startedAt'>): Promise<void>;
  release(): Promise<void>;
}

function lockFile(dataDir: string): string {
  return path.join(localPaths(dataDir).root, 'local-up.lock');
}

/** Takes the data directory for this process; fails clearly when a live process holds it. */
export async function acquireLock(dataDir: string, what = 'mds local up'): Promise<Lock> {
  const file = lockFile(dataDir);
  await mkdir(path.dirname(file), { recursive: true });
  const startedAt = new Date().toISOString();
  const body = (extra: object) => JSON.stringify({ pid: process.pid, startedAt, ...extra }, null, 2);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(body({}));
      await fh.close();
      let released = false;
      return {
        update: async (state) => {
          const tmp = `${file}.${process.pid}.tmp`;
          await writeFile(tmp, body(state));
          await rename(tmp, file);
        },
        release: async () => {
          if (released) return;
          released = true;
          await rm(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = await readServices(dataDir);
      if (holder && isAlive(holder.pid)) {
        throw new MdsError(
          `${what}: the data directory ${localPaths(dataDir).root} is in use by another mds process (pid ${holder.pid}, ` +
            `started ${holder.startedAt}); stop it with Ctrl-C, or use another --data directory`,
        );
      }
      await rm(file, { force: true }); // a stale lock from a process that is gone
    }
  }
  throw new MdsError(`${what}: could not take the lock ${file}`);
}

/** The running services recorded by a live `mds local up`, or undefined. */
export async function readServices(dataDir: string): Promise<ServicesState | undefined> {
  try {
    return JSON.parse(await readFile(lockFile(dataDir), 'utf8')) as ServicesState;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Where a run's local record lives: runs/<runId>/{summary.json,report.html,history.json}. */
export function runDir(dataDir: string, runId: string): string {
  return path.join(localPaths(dataDir).runs, runId);
}

/** The summaries of past runs, newest first. */
export async function listRuns(dataDir: string): Promise<RunSummary[]> {
  const dir = localPaths(dataDir).runs;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: RunSummary[] = [];
  for (const name of names) {
    try {
      out.push(JSON.parse(await readFile(path.join(dir, name, 'summary.json'), 'utf8')) as RunSummary);
    } catch {
      // a run that has not written its summary yet
    }
  }
  return out.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}
