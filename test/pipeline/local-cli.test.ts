/** Bad input to the local pipeline commands: a clear one-line message, a non-zero exit, nothing corrupted. */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, readdir, utimes, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLock } from '../../localstack/state.ts';
import { parseWindow } from '../../bin/commands/local/window.ts';
import { PROJECT_ROOT } from '../../localstack/paths.ts';

const mds = (args: string[]) =>
  spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin/mds.mjs'), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'mds-cli-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('mds run --window', () => {
  const now = new Date('2026-11-23T12:34:00Z');
  it('accepts whole hours in the past', () => {
    expect(parseWindow('2026-11-23T08:00:00Z/2026-11-23T10:00:00Z', now)).toEqual({
      start: '2026-11-23T08:00:00.000Z',
      end: '2026-11-23T10:00:00.000Z',
    });
  });
  it.each([
    ['2026-11-23T10:00:00Z/2026-11-23T08:00:00Z', /^--window: END \S+ must be after START \S+\./],
    ['2026-11-23T10:00:00Z/2026-11-23T14:00:00Z', /in the future/],
    ['2026-11-23T10:30:00Z/2026-11-23T11:00:00Z', /not on an hour boundary/],
    ['2026-11-23T10:00:00/2026-11-23T11:00:00Z', /with a zone/],
    ['yesterday', /expected START\/END/],
  ])('refuses %s', (window, message) => {
    expect(() => parseWindow(window, now)).toThrow(message);
  });
  it('exits 2 with one line and touches no data', async () => {
    const res = mds(['run', '--window', '2026-11-23T10:00:00Z/2026-11-23T08:00:00Z', '--data', dataDir]);
    expect(res.status).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/^mds: --window: END/);
    expect(await readdir(dataDir)).toEqual([]);
  });
});

describe('mds local up', () => {
  it('refuses a second pipeline on the same data directory', async () => {
    const lock = await acquireLock(dataDir);
    try {
      await expect(acquireLock(dataDir)).rejects.toThrow(/in use by another mds process \(pid \d+/);
      const res = mds([
        'local',
        'up',
        '--once',
        '--events',
        '100',
        '--data',
        dataDir,
        '--broker-port',
        '0',
        '--s3-port',
        '0',
      ]);
      expect(res.status).toBe(1);
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
      expect(res.stderr).toMatch(/is in use by another mds process/);
    } finally {
      await lock.release();
    }
  });

  it('says which port is taken and exits non-zero', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const res = mds([
        'local',
        'up',
        '--once',
        '--events',
        '100',
        '--data',
        dataDir,
        '--broker-port',
        String(port),
        '--s3-port',
        '0',
      ]);
      expect(res.status).toBe(1);
      expect(res.stderr).toContain(
        `port ${port} is already in use, so the local Kafka broker (--broker-port) cannot start`,
      );
      expect(res.stderr).not.toMatch(/\n\s+at /);
    } finally {
      blocker.close();
    }
  });
});

describe('mds local up --assembly', () => {
  it('stops before anything starts when the folder holds no cloud assembly, naming the fix', async () => {
    const data = await mkdtemp(path.join(tmpdir(), 'mds-cli-asm-'));
    const res = mds(['local', 'up', '--once', '--assembly', path.join(data, 'nowhere'), '--data', data]);
    expect(res.status).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/no cloud assembly in .*nowhere .*npx cdk synth -c env=dev -o /);
    expect((await readdir(data)).filter((f) => f === 's3' || f === 'broker')).toEqual([]);
    await rm(data, { recursive: true, force: true });
  });

  it('refuses an assembly older than the sources, naming the newest source and the fix', async () => {
    const data = await mkdtemp(path.join(tmpdir(), 'mds-cli-stale-'));
    const assembly = path.join(data, 'assembly');
    await mkdir(assembly);
    await writeFile(path.join(assembly, 'manifest.json'), JSON.stringify({ artifacts: {} }));
    const longAgo = new Date('2020-01-01T00:00:00Z');
    await utimes(path.join(assembly, 'manifest.json'), longAgo, longAgo);
    const res = mds(['local', 'up', '--once', '--assembly', assembly, '--data', data]);
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(
      /is older than \S+, so it would not run the sources as they are; synthesize it again/,
    );
    expect((await readdir(data)).filter((f) => f === 's3' || f === 'broker')).toEqual([]);
    await rm(data, { recursive: true, force: true });
  });
});
