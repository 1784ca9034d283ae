/**
 * The poller as it deploys: its bundle from the synthesized assembly, in the local Lambda runtime (one warm
 * execution environment across polls, as a scheduled Lambda has), with the local state store as its named
 * override, against the local server of the Spotify API, producing to the local broker; the local consumer
 * mapping lands the plays in Bronze and the synthesized workflow (loader, dbt) takes them to Silver.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { naturalEventId } from '../../lambdas/core/event-id.ts';
import { FileTokenStore, localSpotifyPaths } from '../../lambdas/poller/stores.ts';
import type { PollSummary } from '../../lambdas/poller/poll.ts';
import { startLocalPoller, type LocalPoller } from '../../bin/commands/spotify.ts';
import { startBrokerThread } from '../../localstack/broker/thread.ts';
import { startLocalServices, type LocalServices } from '../../localstack/pipeline/services.ts';
import { runWorkflowLocally } from '../../localstack/pipeline/workflow.ts';
import {
  startLocalSpotifyApi,
  type LocalPlay,
  type LocalSpotifyApi,
} from '../../localstack/spotify-api/server.ts';

const WINDOW = { start: '2026-11-20T10:00:00.000Z', end: '2026-11-20T11:00:00.000Z' };

let dir: string;
let services: LocalServices;
let api: LocalSpotifyApi;
let poller: LocalPoller;
let tokens: FileTokenStore;
let brokerPort: number;
let produced = 0;
let revived: { close(): Promise<void> } | undefined;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mds-poller-'));
  brokerPort = await freePort();
  services = await startLocalServices({ dataDir: dir, brokerPort, s3Port: 0, batchingWindowMs: 200 });
  api = await startLocalSpotifyApi({ clients: { 'local-client': null }, rotate: true });
  tokens = new FileTokenStore(localSpotifyPaths(dir).tokens);
  await tokens.saveClient({ clientId: 'local-client' });
  poller = await startLocalPoller({
    apiBaseUrl: api.url,
    accountsBaseUrl: api.url,
    brokers: `127.0.0.1:${brokerPort}`,
    dataDir: dir,
  });
}, 240_000);

afterAll(async () => {
  await poller?.close();
  await api?.close();
  await services?.close();
  await revived?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A connected user: on the API server and in the local tokens file. */
async function connect(user: string, country?: string): Promise<void> {
  await tokens.saveRefreshToken(user, api.addUser(user, { country }));
}

/** `n` plays of a user, minutes apart from `fromMinute` past 10:00 on the window's day. */
function plays(user: string, fromMinute: number, n: number): LocalPlay[] {
  return Array.from({ length: n }, (_, i) => {
    const minute = String(fromMinute + i).padStart(2, '0');
    return {
      played_at: `2026-11-20T10:${minute}:00.000Z`,
      track: {
        id: `${user}-t${fromMinute + i}`,
        name: `Song ${i}`,
        duration_ms: 180_000,
        artists: ['Artist'],
        album: 'Album',
      },
    };
  });
}

const idOf = (user: string, p: LocalPlay) => naturalEventId('spotify_api', user, p.played_at, p.track.id!);

async function poll(): Promise<PollSummary> {
  const summary = await poller.poll();
  produced += summary.plays;
  return summary;
}

const resultOf = (s: PollSummary, user: string) => s.results.find((r) => r.userId === user)!;

/** Waits until the consumer landed every play produced so far, runs the workflow, and counts Silver's rows per id. */
async function silverOf(user: string): Promise<Map<string, number>> {
  const deadline = Date.now() + 60_000;
  while (services.landing().landed < produced) {
    if (Date.now() > deadline) throw new Error(`landed ${services.landing().landed} of ${produced}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const run = await runWorkflowLocally(services, { window: WINDOW, executionName: `poller-${Date.now()}` });
  expect(run.execution.status, `${run.execution.error}: ${run.execution.cause}`).toBe('SUCCEEDED');
  const rows = await services.warehouse.use((wh) =>
    wh.query<{ event_id: string; n: number }>(
      'select event_id, count(*) as n from silver.stg_spotify__events where user_id = $1 group by event_id',
      [user],
    ),
  );
  return new Map(rows.map((r) => [r.event_id, Number(r.n)]));
}

async function cursorOf(user: string): Promise<number | null | undefined> {
  try {
    const all = JSON.parse(await readFile(localSpotifyPaths(dir).cursors, 'utf8')) as {
      users: Record<string, { cursorMs: number | null }>;
    };
    return all.users[user]?.cursorMs;
  } catch {
    return undefined;
  }
}

describe('the poller bundle against the local Spotify API, the broker and the pipeline', () => {
  it('two polls with overlapping plays put each play in Silver exactly once', async () => {
    await connect('olivia', 'SE');
    const first = plays('olivia', 0, 3);
    api.play('olivia', first);
    const a = await poll();
    expect(resultOf(a, 'olivia')).toMatchObject({ status: 'polled', plays: 3, cursorBefore: null });
    const second = plays('olivia', 3, 2);
    api.play('olivia', second);
    // The cursor set back to the first play (a restored table, say): the next poll asks for two plays again.
    const cursors = localSpotifyPaths(dir).cursors;
    const state = JSON.parse(await readFile(cursors, 'utf8')) as {
      users: Record<string, { cursorMs: number }>;
    };
    state.users.olivia!.cursorMs = Date.parse(first[0]!.played_at);
    await writeFile(cursors, JSON.stringify(state));
    const b = await poll();
    expect(resultOf(b, 'olivia')).toMatchObject({ status: 'polled', plays: 4 });
    const silver = await silverOf('olivia');
    expect([...silver.keys()].sort()).toEqual([...first, ...second].map((p) => idOf('olivia', p)).sort());
    expect([...silver.values()].every((n) => n === 1)).toBe(true);
    expect(await cursorOf('olivia')).toBe(Date.parse(second[1]!.played_at));
    // The function ran warm: one execution environment for both polls.
    expect(poller.report().coldStarts).toBe(1);
  }, 120_000);

  it('waits out a 429 for at least its Retry-After, then lands the plays', async () => {
    await connect('rita');
    api.play('rita', plays('rita', 10, 2));
    api.fail('/v1/me/player/recently-played', { status: 429, retryAfterSeconds: 2 });
    const started = performance.now();
    const s = await poll();
    const waited = performance.now() - started;
    expect(resultOf(s, 'rita')).toMatchObject({ status: 'polled', plays: 2 });
    const log = api.requests('/v1/me/player/recently-played');
    const limited = log.findLastIndex((e) => e.status === 429);
    expect(limited).toBeGreaterThanOrEqual(0);
    const retriedAfterMs = log[limited + 1]!.at - log[limited]!.at;
    expect(retriedAfterMs).toBeGreaterThanOrEqual(2000);
    expect(waited).toBeGreaterThanOrEqual(2000);
    console.log(
      `429 Retry-After 2 s: next request after ${retriedAfterMs} ms, poll took ${Math.round(waited)} ms`,
    );
    expect((await silverOf('rita')).size).toBe(2);
  }, 120_000);

  it('refreshes an expired access token once, and saves each rotated refresh token', async () => {
    await connect('eve');
    await poll(); // eve's access token is now cached by the warm function
    const tokenRequests = () => api.requests('/api/token').filter((e) => e.user === 'eve').length;
    const before = tokenRequests();
    api.expireAccessTokens('eve');
    api.play('eve', plays('eve', 20, 3));
    const s = await poll();
    expect(resultOf(s, 'eve')).toMatchObject({
      status: 'polled',
      plays: 3,
      tokenRefreshes: 1,
      rotated: true,
    });
    expect(tokenRequests() - before).toBe(1);
    // The rotated token is the one stored, and the only one the server still accepts.
    expect(api.refreshTokensOf('eve')).toEqual([await tokens.refreshToken('eve')]);
    expect((await silverOf('eve')).size).toBe(3);
  }, 120_000);

  it('skips a user whose consent expired, names the user, counts it in the metric, and lands the others', async () => {
    await connect('gina');
    await connect('hank');
    api.play('gina', plays('gina', 30, 2));
    api.play('hank', plays('hank', 30, 2));
    api.revoke('gina');
    const logFile = path.join(dir, 'logs', 'SpotifyPoller-Poller.log');
    const emfLines = async () =>
      (await readFile(logFile, 'utf8').catch(() => ''))
        .split('\n')
        .filter((l) => l.includes('"CloudWatchMetrics"'));
    const before = (await emfLines()).length;
    const s = await poll();
    expect(resultOf(s, 'gina')).toMatchObject({ status: 'invalid_grant', plays: 0 });
    expect(resultOf(s, 'gina').message).toMatch(/Spotify user gina: the consent expired.*mds spotify login/);
    expect(resultOf(s, 'hank')).toMatchObject({ status: 'polled', plays: 2 });
    expect(s.invalidGrant).toBe(1);
    // The EMF line the function printed for this invocation (its log is written as it runs): InvalidGrant 1,
    // in the namespace and service the alarm watches.
    let lines = await emfLines();
    for (let i = 0; i < 50 && lines.length <= before; i++) {
      await new Promise((r) => setTimeout(r, 100));
      lines = await emfLines();
    }
    const emf = JSON.parse(lines.at(-1)!) as Record<string, unknown> & {
      _aws: { CloudWatchMetrics: { Namespace: string }[] };
    };
    expect(emf.InvalidGrant).toBe(1);
    expect(emf._aws.CloudWatchMetrics[0]!.Namespace).toBe('SpotifyMds');
    expect(emf.service).toBe('Poller');
    expect((await silverOf('hank')).size).toBe(2);
    expect((await silverOf('gina')).size).toBe(0);
  }, 120_000);

  it('wrong client credentials: every user named with the fix, nothing moves, and the next good poll lands', async () => {
    await connect('ivan');
    api.play('ivan', plays('ivan', 40, 1));
    await tokens.saveClient({ clientId: 'not-my-app' });
    try {
      const s = await poll();
      const ivan = resultOf(s, 'ivan');
      expect(ivan.status).toBe('failed');
      expect(ivan.message).toMatch(
        /Spotify user ivan: the accounts service refused the client credentials.*client id/,
      );
      expect(await cursorOf('ivan')).toBeUndefined();
    } finally {
      await tokens.saveClient({ clientId: 'local-client' });
    }
    expect(resultOf(await poll(), 'ivan')).toMatchObject({ status: 'polled', plays: 1 });
  }, 120_000);

  it('a broker that dies mid-poll leaves the cursor where it was; the next poll gives Silver each play once', async () => {
    await connect('zara');
    const zaraPlays = plays('zara', 50, 3);
    api.play('zara', zaraPlays);
    // zara is polled last; her recently-played waits until the broker is gone.
    const held = api.hold('/v1/me/player/recently-played', 'zara');
    const polling = poll();
    await held.reached;
    await services.broker.close();
    held.release();
    const s = await polling;
    const zara = resultOf(s, 'zara');
    expect(zara.status).toBe('failed');
    expect(zara.message).toMatch(/Kafka at 127\.0\.0\.1:\d+/);
    expect(await cursorOf('zara')).toBeUndefined();
    // The broker comes back on its port with its logs; the consumer mapping reconnects.
    revived = await startBrokerThread({ dataDir: services.paths.broker, port: brokerPort });
    const again = await poll();
    expect(resultOf(again, 'zara')).toMatchObject({ status: 'polled', plays: 3, cursorBefore: null });
    const silver = await silverOf('zara');
    expect([...silver.keys()].sort()).toEqual(zaraPlays.map((p) => idOf('zara', p)).sort());
    expect([...silver.values()].every((n) => n === 1)).toBe(true);
  }, 180_000);
});
