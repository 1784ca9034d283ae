/**
 * The poll's rules, in-process against the local Spotify API and a local broker (the bundle runs the same
 * code in test/spotify/poller.test.ts): possible gaps, paging with `next`, plays left out, failures that leave
 * the cursor where it was.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer } from '../../lambdas/core/kafka.ts';
import { SpotifyClient } from '../../lambdas/core/spotify/client.ts';
import { pollAll, type PollDeps } from '../../lambdas/poller/poll.ts';
import { FileCursorStore, FileTokenStore, localSpotifyPaths } from '../../lambdas/poller/stores.ts';
import type { RunningBroker } from '../../localstack/broker/index.ts';
import { startBrokerThread } from '../../localstack/broker/thread.ts';
import { startLocalSpotifyApi, type LocalPlay } from '../../localstack/spotify-api/server.ts';

let dir: string;
let broker: RunningBroker;
let producer: Producer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mds-poll-'));
  broker = await startBrokerThread({ dataDir: path.join(dir, 'broker'), port: 0 });
  producer = createProducer(createKafka({ brokers: [broker.bootstrap] }));
  await producer.connect();
}, 60_000);
afterAll(async () => {
  await producer?.disconnect();
  await broker?.close();
  await rm(dir, { recursive: true, force: true });
});

const plays = (user: string, n: number, from = 0): LocalPlay[] =>
  Array.from({ length: n }, (_, i) => ({
    played_at: new Date(Date.UTC(2026, 10, 20, 8, 0, 0) + (from + i) * 60_000).toISOString(),
    track: { id: `${user}-${from + i}`, name: 'S', duration_ms: 1000, artists: ['A'], album: 'L' },
  }));

/** A fresh setup: its own API server, data directory and topic. */
async function setup(options: { retain?: number; remainingMs?: () => number } = {}) {
  const api = await startLocalSpotifyApi({ retain: options.retain });
  const data = await mkdtemp(path.join(dir, 'data-'));
  const paths = localSpotifyPaths(data);
  const tokens = new FileTokenStore(paths.tokens);
  await tokens.saveClient({ clientId: 'local-client' });
  const cursors = new FileCursorStore(paths.cursors);
  const deps: PollDeps = {
    client: new SpotifyClient({
      apiBaseUrl: api.url,
      accountsBaseUrl: api.url,
      backoffMs: 10,
      remainingMs: options.remainingMs,
    }),
    tokens,
    cursors,
    producer: async () => producer,
    topic: `poll-${path.basename(data)}`,
    brokers: [broker.bootstrap],
  };
  const connect = async (user: string) => tokens.saveRefreshToken(user, api.addUser(user));
  return { api, deps, cursors, connect };
}

describe('one poll', () => {
  it('counts a possible gap for a full page of 50 since the cursor, not on the first poll', async () => {
    const { api, deps, connect } = await setup();
    try {
      await connect('u');
      api.play('u', plays('u', 50));
      const first = await pollAll(deps);
      expect(first).toMatchObject({ plays: 50, possibleGaps: 0 });
      api.play('u', plays('u', 49, 50));
      expect(await pollAll(deps)).toMatchObject({ plays: 49, possibleGaps: 0 });
      api.play('u', plays('u', 60, 99));
      const full = await pollAll(deps);
      expect(full).toMatchObject({ plays: 50, possibleGaps: 1 });
      expect(full.results[0]!.possibleGap).toBe(true);
    } finally {
      await api.close();
    }
  });

  it('follows next while it brings plays after the cursor', async () => {
    const { api, deps, connect, cursors } = await setup({ retain: 500 });
    try {
      await connect('p');
      api.play('p', plays('p', 10));
      await pollAll(deps);
      api.play('p', plays('p', 120, 10));
      const s = await pollAll(deps);
      expect(s.plays).toBe(120);
      const pages = api.requests('/v1/me/player/recently-played');
      expect(pages.slice(-3).map((e) => Object.keys(e.query).sort().join(','))).toEqual([
        'after,limit',
        'after,limit',
        'after,limit',
      ]);
      expect((await cursors.get('p'))?.cursorMs).toBe(Date.parse(plays('p', 1, 129)[0]!.played_at));
    } finally {
      await api.close();
    }
  });

  it('leaves out a local file, counts it, and moves the cursor past it', async () => {
    const { api, deps, connect, cursors } = await setup();
    try {
      await connect('l');
      const local: LocalPlay = {
        played_at: '2026-11-20T09:00:00.000Z',
        track: { id: null, name: 'my.mp3', duration_ms: 1, artists: [], album: '' },
      };
      api.play('l', [...plays('l', 2), local]);
      expect(await pollAll(deps)).toMatchObject({ plays: 2, leftOut: 1 });
      expect((await cursors.get('l'))?.cursorMs).toBe(Date.parse(local.played_at));
    } finally {
      await api.close();
    }
  });

  it('a 429 longer than the time left fails the user with its message; the cursor stays; the next poll lands', async () => {
    const { api, deps, connect, cursors } = await setup({ remainingMs: () => 10_000 });
    try {
      await connect('r');
      api.play('r', plays('r', 3));
      api.fail('/v1/me/player/recently-played', { status: 429, retryAfterSeconds: 3600 });
      const s = await pollAll(deps);
      expect(s.results[0]).toMatchObject({ status: 'failed', plays: 0 });
      expect(s.results[0]!.message).toMatch(/Spotify user r: .*Retry-After 3600 s/);
      expect((await cursors.get('r'))?.cursorMs ?? null).toBeNull();
      expect(await pollAll(deps)).toMatchObject({ plays: 3, failed: 0 });
    } finally {
      await api.close();
    }
  });

  it('a 5xx that outlasts the retries fails that user only', async () => {
    const { api, deps, connect } = await setup();
    try {
      await connect('a');
      await connect('b');
      api.play('a', plays('a', 2));
      api.play('b', plays('b', 2));
      api.fail('/v1/me/player/recently-played', { status: 503, times: 5 }); // a's first request and its 4 retries
      const s = await pollAll(deps);
      expect(s.results.map((r) => [r.userId, r.status, r.plays])).toEqual([
        ['a', 'failed', 0],
        ['b', 'polled', 2],
      ]);
      expect(s.results[0]!.message).toMatch(/Spotify user a: .*answered 503/);
    } finally {
      await api.close();
    }
  });
});
