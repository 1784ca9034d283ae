/**
 * bin/relaunch.mjs, with real processes: the relaunched child gets the settings, the arguments and node flags
 * unchanged; the first process ends as the child ends (exit code or signal), passes SIGTERM on, and a
 * SIGKILL of it ends the child too. And `mds run`, which relaunches, keeps its exit code and message.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../localstack/paths.ts';

const FIXTURE = path.join(PROJECT_ROOT, 'test/fixtures/relaunch-child.mjs');

interface Seen {
  pid: number;
  ppid: number;
  argv: string[];
  execArgv: string[];
  mallocArenaMax?: string;
  marker: string | null;
}

const started: ChildProcess[] = [];
const pids: number[] = [];
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const pid of pids.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

/** Whether a process runs (a zombie, ended but not yet reaped by whoever adopted it, does not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return !/^\d+ \(.*\) Z/.test(stat);
}

function run(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const res = spawnSync(process.execPath, [FIXTURE, ...args], { encoding: 'utf8', env, timeout: 30_000 });
  return { ...res, seen: JSON.parse(res.stdout.trim().split('\n')[0]!) as Seen };
}

/** Starts the fixture with `wait`; resolves with the process and what its relaunched child saw. */
async function waiting(): Promise<{
  proc: ChildProcess;
  seen: Seen;
  exited: Promise<[number | null, string | null]>;
}> {
  const proc = spawn(process.execPath, [FIXTURE, 'wait'], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(proc);
  const exited = new Promise<[number | null, string | null]>((resolve) =>
    proc.once('exit', (code, signal) => resolve([code, signal])),
  );
  const seen = await new Promise<Seen>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!) as Seen);
    });
    proc.once('exit', () => reject(new Error(`the fixture ended before it was ready: ${out}`)));
  });
  pids.push(seen.pid);
  return { proc, seen, exited };
}

describe('a relaunched command', () => {
  it('runs in a child with the settings, its arguments and node flags unchanged, and the exit code comes back', () => {
    const res = run(['exit', '3', 'two words', '--flag=x'], { ...process.env, MALLOC_ARENA_MAX: undefined });
    expect(res.status).toBe(3);
    expect(res.seen.pid).not.toBe(res.pid);
    expect(res.seen.ppid).toBe(res.pid);
    expect(res.seen.argv).toEqual(['exit', '3', 'two words', '--flag=x']);
    expect(res.seen.execArgv).toEqual(['--max-semi-space-size=3']);
    expect(res.seen.mallocArenaMax).toBe('2');
    expect(res.seen.marker).toBeNull();
    expect(run(['exit', '0']).status).toBe(0);
  });

  it('keeps a setting the caller made', () => {
    expect(run(['exit', '0'], { ...process.env, MALLOC_ARENA_MAX: '8' }).seen.mallocArenaMax).toBe('8');
  });

  it('ends by the signal that ended the child', () => {
    const res = run(['signal', 'SIGTERM']);
    expect(res.status).toBeNull();
    expect(res.signal).toBe('SIGTERM');
  });

  it('passes SIGTERM on to the child, and ends with its exit code', async () => {
    const { proc, exited } = await waiting();
    proc.kill('SIGTERM');
    expect(await exited).toEqual([7, null]);
  });

  it('leaves nothing running when it is killed', async () => {
    const { proc, seen, exited } = await waiting();
    proc.kill('SIGKILL');
    await exited;
    const deadline = Date.now() + 5000;
    while (alive(seen.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(alive(seen.pid)).toBe(false);
  });
});

/** `mds <args>` with a preload that prints each process's MALLOC_ARENA_MAX (node flags pass on to the child). */
function mds(args: string[]) {
  const preload = `data:text/javascript,process.stderr.write('arena=' + process.env.MALLOC_ARENA_MAX + '\\n')`;
  const res = spawnSync(
    process.execPath,
    ['--import', preload, path.join(PROJECT_ROOT, 'bin/mds.mjs'), ...args],
    { encoding: 'utf8', timeout: 60_000, env: { ...process.env, MALLOC_ARENA_MAX: undefined } },
  );
  const arenas = res.stderr.match(/^arena=.*$/gm) ?? [];
  return { ...res, arenas, stderr: res.stderr.replace(/^arena=.*\n/gm, '') };
}

describe('mds', () => {
  it('relaunches `mds run`, which keeps its one-line message and exit code 2 for a bad window', () => {
    const res = mds(['run', '--window', 'yesterday']);
    expect(res.arenas).toEqual(['arena=undefined', 'arena=2']);
    expect(res.stderr).toMatch(/^mds: --window "yesterday": expected START\/END/);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.status).toBe(2);
  });

  it('runs the other commands in the first process', () => {
    const res = mds(['simulate', '--events', '10', '--out', '/dev/null']);
    expect(res.arenas).toEqual(['arena=undefined']);
    expect(res.status).toBe(0);
  });
});
