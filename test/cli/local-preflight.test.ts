/**
 * `mds local up` and `mds run` refuse bad input before anything starts: a window PlanWindow would refuse, a
 * port out of range, a busy dashboard port, a data directory under /proc. One line naming the flag, a
 * non-zero exit, and the data directory untouched (nothing produced, nothing written).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../localstack/paths.ts';
import { assertPlannableWindow } from '../../bin/commands/preflight.ts';
import { parsePort } from '../../bin/commands/cli-util.ts';

const mds = (args: string[]) =>
  spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin/mds.mjs'), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });

let root: string;
let data: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'mds-preflight-'));
});
beforeEach(() => {
  // A data directory of its own per test, which none of them may create.
  data = path.join(root, `data-${Math.random().toString(36).slice(2)}`);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Exits with `code`, one line on stderr matching `message`, no stack trace, and nothing under the data dir. */
async function refused(args: string[], code: number, message: RegExp): Promise<void> {
  const res = mds(args);
  expect(res.signal).toBeNull(); // it ended by itself
  expect(res.stderr.trim().split('\n')).toHaveLength(1);
  expect(res.stderr).toMatch(message);
  expect(res.stderr).not.toMatch(/\n\s+at /);
  expect(res.status).toBe(code);
  expect(await readdir(root)).not.toContain(path.basename(data));
}

const hour = 3_600_000;
const lastHour = new Date(Math.floor(Date.now() / hour) * hour);
const iso = (t: number) => new Date(t).toISOString();

describe('mds local up: a window the workflow would refuse stops before producing', () => {
  const up = (...flags: string[]) => ['local', 'up', '--once', '--events', '1000', '--data', data, ...flags];

  it('in the future', async () => {
    await refused(
      up('--start', iso(lastHour.getTime() - hour), '--end', iso(lastHour.getTime() + 2 * hour)),
      2,
      /^mds: --end \S+ is in the future \(now is \S+\); use \S+ or earlier\. The workflow's PlanWindow step would refuse/,
    );
  });
  it('off the hour', async () => {
    await refused(
      up('--start', iso(lastHour.getTime() - 2.5 * hour), '--end', iso(lastHour.getTime() - hour)),
      2,
      /^mds: --start \S+ is not on an hour boundary; use e\.g\. \S+:00:00\.000Z\./,
    );
  });
  it('ending inside the current hour', async () => {
    const now = Date.now();
    // Half a minute into the hour at the least, so that the end is off the hour and not in the future.
    const end = now - lastHour.getTime() >= 30_000 ? now - 15_000 : lastHour.getTime() - hour + 1_800_000;
    await refused(
      up('--start', iso(lastHour.getTime() - 3 * hour), '--end', iso(end)),
      2,
      /^mds: --end \S+ is not on an hour boundary/,
    );
  });
  it('a --duration that does not end the window on whole hours', async () => {
    await refused(
      ['local', 'up', '--once', '--rate', '10', '--duration', '90s', '--data', data],
      2,
      /^mds: the window start \(--end minus --duration\) \S+ is not on an hour boundary/,
    );
  });
});

describe('ports', () => {
  it.each(['--broker-port', '--s3-port', '--dashboard-port'])('%s 70000 names the flag', async (flag) => {
    await refused(
      ['local', 'up', '--once', '--data', data, flag, '70000'],
      2,
      new RegExp(`^mds: ${flag}: expected a port from 1 to 65535 \\(or 0 for a free one\\), got "70000"`),
    );
  });
  it('parsePort takes 0 to 65535 only', () => {
    expect(parsePort('0', '--p')).toBe(0);
    expect(parsePort('65535', '--p')).toBe(65535);
    for (const bad of ['65536', '-1', '80.5', 'http', ''])
      expect(() => parsePort(bad, '--p')).toThrow(/^--p: expected a port/);
  });

  it('a busy dashboard port is found before the pipeline runs', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await refused(
        [
          'local',
          'up',
          '--events',
          '1000',
          '--data',
          data,
          '--broker-port',
          '0',
          '--s3-port',
          '0',
          '--dashboard-port',
          String(port),
        ],
        1,
        new RegExp(
          `^mds: port ${port} is already in use, so the dashboard \\(--dashboard-port\\) cannot start`,
        ),
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('mds run --window', () => {
  it('longer than the planner allows is refused before the services start', async () => {
    await refused(
      ['run', '--window', '2026-01-01T00:00:00Z/2026-06-01T00:00:00Z', '--data', data],
      2,
      /^mds: --window: The window spans 3624 hours; at most 31 days \(744 hours\) are allowed\. Split the backfill/,
    );
  });
});

describe('--data under /proc', () => {
  it.each([
    ['local', 'up', '--once', '--broker-port', '0', '--s3-port', '0'],
    ['run', '--window', '2026-11-01T00:00:00Z/2026-11-01T01:00:00Z'],
  ])('mds %s %s: a clear error, no hang', async (...args) => {
    await refused(
      [...args, '--data', '/proc/mds-no-such-dir/data'],
      2,
      /^mds: --data \/proc\/mds-no-such-dir\/data: cannot create it: \/proc does not take new directories .*; pass a directory on a writable local disk/,
    );
  });
});

describe('mds consume --data-dir under /proc', () => {
  it('a clear error naming the flag, no hang', async () => {
    await refused(
      ['consume', '--until-drained', '--s3-port', '0', '--data-dir', '/proc/mds-no-such-dir/data'],
      2,
      /^mds: --data-dir \/proc\/mds-no-such-dir\/data: cannot create it: \/proc does not take new directories/,
    );
  });
});

describe('assertPlannableWindow', () => {
  const now = new Date('2026-11-23T12:34:00Z');
  const names = { start: '--start', end: '--end' };
  it('accepts whole past hours up to the start of the current one', () => {
    expect(() =>
      assertPlannableWindow(
        { start: new Date('2026-11-23T06:00:00Z'), end: new Date('2026-11-23T12:00:00Z') },
        now,
        names,
      ),
    ).not.toThrow();
  });
  it('refuses the window ending at the end of the current hour', () => {
    expect(() =>
      assertPlannableWindow(
        { start: new Date('2026-11-23T06:00:00Z'), end: new Date('2026-11-23T13:00:00Z') },
        now,
        names,
      ),
    ).toThrow(/^--end 2026-11-23T13:00:00.000Z is in the future/);
  });
});
