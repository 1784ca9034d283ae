/**
 * Stale locks: a lock that names a live but unrelated pid (pid 1, as a process killed in a container or in
 * another pid namespace leaves behind) is taken over by `local up`/`run` (acquireLock) and `local clean`;
 * a lock held by a live mds process is respected.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../localstack/paths.ts';
import {
  LOCK_HEARTBEAT_MS,
  LOCK_STALE_MS,
  acquireLock,
  liveHolder,
  ownIdentity,
  processStartTime,
} from '../../localstack/state.ts';

const mds = (args: string[]) =>
  spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin/mds.mjs'), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function dataDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'mds-lock-'));
  dirs.push(d);
  return d;
}

const lockPath = (dir: string) => path.join(dir, 'local-up.lock');

async function writeLock(dir: string, body: object, ageMs: number): Promise<void> {
  await writeFile(lockPath(dir), JSON.stringify(body));
  const t = new Date(Date.now() - ageMs);
  await utimes(lockPath(dir), t, t);
}

// This machine and pid namespace, as a lock written here records them.
const { host, bootId, pidNamespace } = ownIdentity();
const here = { host, bootId, pidNamespace };

describe('a lock naming pid 1, which is alive here but is not an mds process', () => {
  it('written in another pid namespace and no longer refreshed: local up/run take it over', async () => {
    const dir = await dataDir();
    await writeLock(
      dir,
      { pid: 1, startedAt: '2026-11-30T08:00:00.000Z', ...here, pidNamespace: 'pid:[1]', processStart: '7' },
      LOCK_STALE_MS + 60_000,
    );
    expect(await liveHolder(dir)).toBeUndefined();
    const lock = await acquireLock(dir, 'mds run');
    expect(JSON.parse(await readFile(lockPath(dir), 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('a lock of the old format (a pid only) with no heartbeat: local clean removes the directory', async () => {
    const dir = await dataDir();
    await writeFile(path.join(dir, 'keep-me-not'), 'x');
    await writeLock(dir, { pid: 1, startedAt: '2026-11-30T08:00:00.000Z' }, LOCK_STALE_MS + 60_000);
    const status = mds(['status', '--data', dir]);
    expect(status.stdout).toMatch(/no local pipeline is running/);
    const res = mds(['local', 'clean', '--data', dir]);
    expect(res.stderr).toBe(`removed ${dir}\n`);
    expect(res.status).toBe(0);
    await expect(stat(dir)).rejects.toThrow(/ENOENT/);
  });

  it('written on this machine in this namespace by a process that started at another time: taken over at once', async () => {
    const dir = await dataDir();
    const pid1Start = processStartTime(1) as string;
    expect(pid1Start).toMatch(/^\d+$/);
    // Fresh heartbeat: the start time alone shows that pid 1 is not the process that wrote the lock.
    await writeLock(
      dir,
      {
        pid: 1,
        startedAt: '2026-11-30T08:00:00.000Z',
        ...here,
        processStart: String(Number(pid1Start) + 12345),
      },
      0,
    );
    const lock = await acquireLock(dir, 'mds local up');
    await lock.release();
  });

  it('written in another pid namespace with a fresh heartbeat: respected, as its holder may be alive there', async () => {
    const dir = await dataDir();
    await writeLock(
      dir,
      { pid: 1, startedAt: '2026-11-30T08:00:00.000Z', ...here, pidNamespace: 'pid:[1]', processStart: '7' },
      0,
    );
    await expect(acquireLock(dir, 'mds local up')).rejects.toThrow(
      /in use by another mds process \(pid 1, started 2026-11-30T08:00:00.000Z\)/,
    );
  });
});

describe('a lock held by a live mds process', () => {
  async function holder(dir: string, mode = ''): Promise<ChildProcess> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(PROJECT_ROOT, 'test/faults/hold-lock.ts'), dir, mode],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (b: Buffer) => {
        if (b.toString().includes('held')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the lock holder exited with ${code}`)));
    });
    return child;
  }

  it('is respected by local up/run and local clean, and taken over once the holder is killed', async () => {
    const dir = await dataDir();
    const child = await holder(dir);
    await expect(acquireLock(dir, 'mds local up')).rejects.toThrow(
      new RegExp(`in use by another mds process \\(pid ${child.pid},`),
    );
    // Its heartbeat: an mtime set back is refreshed while the holder runs.
    const old = new Date(Date.now() - LOCK_STALE_MS - 60_000);
    await utimes(lockPath(dir), old, old);
    const deadline = Date.now() + 10 * LOCK_HEARTBEAT_MS;
    while ((await stat(lockPath(dir))).mtimeMs <= old.getTime() + 1000) {
      if (Date.now() > deadline) throw new Error('the holder never refreshed its lock');
      await new Promise((r) => setTimeout(r, 200));
    }
    const clean = mds(['local', 'clean', '--data', dir]);
    expect(clean.status).toBe(1);
    expect(clean.stderr).toMatch(new RegExp(`^mds: a local pipeline \\(pid ${child.pid}\\) uses `));
    expect((await stat(lockPath(dir))).isFile()).toBe(true);

    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL'); // no chance to remove its lock
    await exited;
    expect(JSON.parse(await readFile(lockPath(dir), 'utf8')).pid).toBe(child.pid);
    const lock = await acquireLock(dir, 'mds local up');
    await lock.release();
  });

  it('is released when the holder ends normally', async () => {
    const dir = await dataDir();
    const child = await holder(dir);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin!.end();
    expect(await exited).toBe(0);
    await expect(stat(lockPath(dir))).rejects.toThrow(/ENOENT/);
  });

  it('is removed when the holder ends on an uncaught error', async () => {
    const dir = await dataDir();
    const child = await holder(dir, 'crash');
    expect((await stat(lockPath(dir))).isFile()).toBe(true);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin!.end();
    expect(await exited).toBe(1);
    await expect(stat(lockPath(dir))).rejects.toThrow(/ENOENT/);
  });
});
