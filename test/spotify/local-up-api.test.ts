/**
 * `mds local up --once --json --source spotify-api` as a user runs it (a child process): two users connected
 * in the data directory as `mds spotify login` leaves them, against the local server of the Spotify API. The
 * poller's bundle polls them into the local broker, the window follows their plays, Silver holds exactly
 * them and the reconciliation holds; a second run over overlapping plays (a lost cursor re-asks for the old
 * ones) adds only the new ones; a third with nothing new exits 0. No connected user, or an unreachable API,
 * is one line naming the fix, before anything starts.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { naturalEventId } from '../../lambdas/core/event-id.ts';
import { HOUR_MS } from '../../lambdas/core/window.ts';
import { FileTokenStore, localSpotifyPaths } from '../../lambdas/poller/stores.ts';
import { localPaths, PROJECT_ROOT } from '../../localstack/paths.ts';
import { WarehouseLease } from '../../localstack/pipeline/warehouse-lease.ts';
import type { SpotifyApiReport } from '../../localstack/pipeline/spotify-api.ts';
import {
  startLocalSpotifyApi,
  type LocalPlay,
  type LocalSpotifyApi,
} from '../../localstack/spotify-api/server.ts';

let dir: string;
let data: string;
let api: LocalSpotifyApi;

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `mds local up --once --json --source spotify-api` in a child process (the API server answers from here). */
function up(extra: string[] = [], dataDir = data): Promise<Run> {
  return mds([
    'local',
    'up',
    '--once',
    '--json',
    '--source',
    'spotify-api',
    '--data',
    dataDir,
    '--broker-port',
    '0',
    '--s3-port',
    '0',
    '--api-base-url',
    api.url,
    '--accounts-base-url',
    api.url,
    ...extra,
  ]);
}

function mds(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(PROJECT_ROOT, 'bin/mds.mjs'), ...args],
      { encoding: 'utf8', timeout: 240_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ status: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}

/** `n` plays of a user, a minute apart from `hh:mm` on 2026-11-20. */
function plays(user: string, hour: number, fromMinute: number, n: number): LocalPlay[] {
  return Array.from({ length: n }, (_, i) => ({
    played_at: new Date(Date.UTC(2026, 10, 20, hour, fromMinute + i)).toISOString(),
    track: {
      id: `${user}-${hour}-${fromMinute + i}`,
      name: `Song ${fromMinute + i}`,
      duration_ms: 200_000,
      artists: ['Artist'],
      album: 'Album',
    },
  }));
}

const idOf = (user: string, p: LocalPlay) => naturalEventId('spotify_api', user, p.played_at, p.track.id!);

async function silverIds(): Promise<string[]> {
  const wh = new WarehouseLease(localPaths(data).warehouse);
  const rows = await wh.query<{ event_id: string }>(
    'select event_id from silver.stg_spotify__events order by event_id',
  );
  return rows.map((r) => String(r.event_id));
}

const reportOf = (run: Run): SpotifyApiReport => {
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as SpotifyApiReport;
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mds-up-api-'));
  data = path.join(dir, 'data');
  api = await startLocalSpotifyApi({ clients: { 'local-client': null }, rotate: true });
}, 60_000);

afterAll(async () => {
  await api?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('mds local up --source spotify-api', () => {
  it('without a connected user: one line naming mds spotify login, nothing started', async () => {
    const run = await up([], path.join(dir, 'empty'));
    expect(run.status).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/no Spotify user is connected in .*tokens\.json; .*mds spotify login/);
  });

  const aliceFirst = plays('alice', 9, 10, 4);
  const bobFirst = plays('bob', 11, 50, 3);
  const aliceMore = plays('alice', 12, 0, 2);
  const bobMore = plays('bob', 12, 30, 2);

  it('polls both users; the window follows their plays; Silver holds exactly them; it reconciles', async () => {
    const tokens = new FileTokenStore(localSpotifyPaths(data).tokens);
    await tokens.saveClient({ clientId: 'local-client' });
    await tokens.saveRefreshToken('alice', api.addUser('alice', { country: 'SE' }));
    await tokens.saveRefreshToken('bob', api.addUser('bob'));
    api.play('alice', aliceFirst);
    api.play('bob', bobFirst);

    const report = reportOf(await up());
    expect(report.source).toMatchObject({ kind: 'spotify-api', poll: { users: 2, polled: 2, plays: 7 } });
    expect(report.window).toEqual({ start: '2026-11-20T09:00:00.000Z', end: '2026-11-20T12:00:00.000Z' });
    expect(report.runs.map((r) => [r.window, r.status])).toEqual([
      [{ start: '2026-11-20T09:00:00.000Z', end: '2026-11-20T12:00:00.000Z' }, 'SUCCEEDED'],
    ]);
    expect(report.reconciliation.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.reconciliation.ok).toBe(true);
    expect(report.events).toMatchObject({ produced: 7, landed: 7, quarantined: 0 });
    expect(report.reconciliation.checks.find((c) => c.skipped)?.skipped).toMatch(/Spotify Web API/);
    expect(report.functions.map((f) => f.id)).toContain('SpotifyPoller/Poller');
    const expected = [
      ...aliceFirst.map((p) => idOf('alice', p)),
      ...bobFirst.map((p) => idOf('bob', p)),
    ].sort();
    expect(await silverIds()).toEqual(expected);
  }, 300_000);

  it('a second run over overlapping plays adds only the new ones', async () => {
    // Alice's cursor is lost: her poll asks for every play Spotify keeps, the old ones included.
    const file = localSpotifyPaths(data).cursors;
    const cursors = JSON.parse(await readFile(file, 'utf8')) as { users: Record<string, unknown> };
    expect(Object.keys(cursors.users).sort()).toEqual(['alice', 'bob']);
    delete cursors.users.alice;
    await writeFile(file, JSON.stringify(cursors));
    api.play('alice', aliceMore);
    api.play('bob', bobMore);

    const report = reportOf(await up());
    expect(report.source.poll.plays).toBe(aliceFirst.length + aliceMore.length + bobMore.length);
    expect(report.window).toEqual({ start: '2026-11-20T09:00:00.000Z', end: '2026-11-20T13:00:00.000Z' });
    expect(report.reconciliation.ok).toBe(true);
    const expected = [
      ...[...aliceFirst, ...aliceMore].map((p) => idOf('alice', p)),
      ...[...bobFirst, ...bobMore].map((p) => idOf('bob', p)),
    ].sort();
    expect(await silverIds()).toEqual(expected);
  }, 300_000);

  it('no new plays: says so and exits 0', async () => {
    const run = await up();
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ plays: 0, source: { poll: { polled: 2, plays: 0 } } });
  }, 300_000);

  it('a play in the hour that has not ended is landed, not run, and counted as pending (the summary names the source)', async () => {
    // Not within a minute and a half of the hour's end, so the hour is still running when the run plans.
    const toNextHour = HOUR_MS - (Date.now() % HOUR_MS);
    if (toNextHour < 90_000) await new Promise((r) => setTimeout(r, toNextHour + 1000));
    const hour = new Date(Math.floor(Date.now() / HOUR_MS) * HOUR_MS).toISOString();
    const before = await silverIds();
    api.play('bob', [
      {
        played_at: new Date(Date.parse(hour) + 1000).toISOString(),
        track: { id: 'bob-now', name: 'Now', duration_ms: 1000, artists: ['Artist'], album: 'Album' },
      },
    ]);
    const args = ['local', 'up', '--once', '--source', 'spotify-api', '--data', data, '--broker-port', '0'];
    const run = await mds([
      ...args,
      '--s3-port',
      '0',
      '--api-base-url',
      api.url,
      '--accounts-base-url',
      api.url,
    ]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/Spotify poll: 2 user\(s\), 2 polled, 1 play\(s\) produced/);
    expect(run.stderr).toContain(`1 play(s) in ${hour}: landed, not run until that hour has ended`);
    expect(run.stderr).toMatch(/^pipeline \S+ \.\. \S+ \(Spotify Web API, recently-played\)$/m);
    expect(run.stderr).toMatch(/reconciliation: OK/);
    expect(run.stderr).toMatch(/workflow runs +0 succeeded of 0/);
    expect(await silverIds()).toEqual(before);
  }, 300_000);

  it('an unreachable API: one line naming the setting, nothing started', async () => {
    const run = await up(['--api-base-url', 'http://127.0.0.1:1']);
    expect(run.status).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/Spotify Web API at http:\/\/127\.0\.0\.1:1 is unreachable .*--api-base-url/);
  });
});
