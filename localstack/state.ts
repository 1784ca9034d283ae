/**
 * The local pipeline's state on disk: a lock so that only one `mds local up` uses a data directory at a time,
 * the addresses of the running services (for `mds status`), and the run records under runs/.
 */
import { readFileSync, readlinkSync, rmSync } from 'node:fs';
import { open, readFile, readdir, rm, stat, utimes, writeFile, rename } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MdsError } from '../lambdas/core/errors.ts';
import type { RunSummary } from '../lambdas/core/run-summary.ts';
import { ensureDirectory, localPaths } from './paths.ts';

export interface ServicesState {
  readonly pid: number;
  readonly startedAt: string;
  /** Who wrote the lock, so a pid alone never decides that it is held (see `lockIsHeld`). */
  readonly host?: string;
  readonly bootId?: string;
  readonly pidNamespace?: string;
  /** The holder's start time in clock ticks since boot (field 22 of /proc/<pid>/stat). */
  readonly processStart?: string;
  readonly broker?: string;
  readonly s3?: string;
  readonly dashboard?: string;
}

type Identity = Pick<ServicesState, 'pid' | 'host' | 'bootId' | 'pidNamespace' | 'processStart'>;

export interface Lock {
  update(
    state: Omit<ServicesState, 'pid' | 'startedAt' | 'host' | 'bootId' | 'pidNamespace' | 'processStart'>,
  ): Promise<void>;
  release(): Promise<void>;
}

/** While a lock is held its file's mtime is refreshed this often (the heartbeat). */
export const LOCK_HEARTBEAT_MS = 5_000;
/** A lock whose holder cannot be checked directly is stale once its heartbeat is this old. */
export const LOCK_STALE_MS = 30_000;

function lockFile(dataDir: string): string {
  return path.join(localPaths(dataDir).root, 'local-up.lock');
}

/** Lock files this process holds: removed on exit, even when the process ends on an uncaught error. */
const held = new Map<string, string>();
process.once('exit', () => {
  for (const file of held.values()) rmSync(file, { force: true });
});

/** The data directories whose lock this process holds (for error messages). */
export function heldDataDirs(): string[] {
  return [...held.keys()];
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot (Linux only). */
export function processStartTime(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // The command name (field 2) is in parentheses and may itself hold spaces or parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19]; // fields[0] is field 3 (the state)
}

function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/** What a lock written now by this process records about it. */
export function ownIdentity(): Identity {
  return {
    pid: process.pid,
    host: os.hostname(),
    bootId: readText('/proc/sys/kernel/random/boot_id'),
    pidNamespace: pidNamespace(),
    processStart: processStartTime(process.pid),
  };
}

/**
 * Whether the process that wrote a lock still holds it. A pid alone proves nothing: a process killed in a
 * container or another pid namespace leaves a lock naming a pid (often 1) that is alive here but is another
 * process. The rule:
 *  1. The lock was written on this machine since its last boot (same host and boot id) and in this pid
 *     namespace: it is held exactly when that pid is alive AND started at the recorded time (the start time in
 *     /proc/<pid>/stat), so a reused pid, pid 1 included, is not mistaken for the holder.
 *  2. Otherwise (another host, another boot, another pid namespace, or a lock without these fields): the pid
 *     cannot be checked from here, so the heartbeat decides. A holder refreshes the lock's mtime every
 *     LOCK_HEARTBEAT_MS; a lock whose mtime is older than LOCK_STALE_MS is stale.
 * A stale lock is taken over; a held one is refused with the holder's pid.
 */
export function lockIsHeld(
  holder: Identity,
  heartbeatAgeMs: number,
  self: Identity = ownIdentity(),
): boolean {
  const sameMachine =
    holder.host !== undefined &&
    holder.host === self.host &&
    holder.bootId !== undefined &&
    holder.bootId === self.bootId;
  const checkable =
    sameMachine &&
    holder.pidNamespace !== undefined &&
    holder.pidNamespace === self.pidNamespace &&
    holder.processStart !== undefined &&
    self.processStart !== undefined;
  if (checkable) return isAlive(holder.pid) && processStartTime(holder.pid) === holder.processStart;
  return heartbeatAgeMs < LOCK_STALE_MS;
}

/** Takes the data directory for this process; fails clearly when a live process holds it. */
export async function acquireLock(dataDir: string, what = 'mds local up'): Promise<Lock> {
  const file = lockFile(dataDir);
  const root = localPaths(dataDir).root;
  await ensureDirectory(root, '--data');
  const startedAt = new Date().toISOString();
  const identity = ownIdentity();
  const body = (extra: object) => JSON.stringify({ ...identity, startedAt, ...extra }, null, 2);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx');
      try {
        await fh.writeFile(body({}));
      } catch (err) {
        await fh.close();
        await rm(file, { force: true });
        throw err;
      }
      await fh.close();
      held.set(root, file);
      let released = false;
      const heartbeat = setInterval(() => {
        const now = new Date();
        utimes(file, now, now).catch(() => undefined);
      }, LOCK_HEARTBEAT_MS);
      heartbeat.unref();
      return {
        update: async (state) => {
          const tmp = `${file}.${process.pid}.tmp`;
          await writeFile(tmp, body(state));
          await rename(tmp, file);
        },
        release: async () => {
          if (released) return;
          released = true;
          clearInterval(heartbeat);
          held.delete(root);
          await rm(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = await liveHolder(dataDir);
      if (holder) {
        throw new MdsError(
          `${what}: the data directory ${root} is in use by another mds process (pid ${holder.pid}, ` +
            `started ${holder.startedAt}); stop it with Ctrl-C, or use another --data directory`,
        );
      }
      await rm(file, { force: true }); // a stale lock: see lockIsHeld
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

/** The process holding the data directory's lock, or undefined when there is no lock or it is stale. */
export async function liveHolder(dataDir: string): Promise<ServicesState | undefined> {
  const holder = await readServices(dataDir);
  if (!holder || !Number.isInteger(holder.pid)) return undefined;
  let age: number;
  try {
    age = Date.now() - (await stat(lockFile(dataDir))).mtimeMs;
  } catch {
    return undefined;
  }
  return lockIsHeld(holder, age) ? holder : undefined;
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
