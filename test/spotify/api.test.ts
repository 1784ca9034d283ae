/**
 * The Spotify client against the local server of the documented API and accounts shapes, and the mapping of
 * a play to a version-2 event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TEXT_LENGTH, validateEvent } from '../../lambdas/core/contract.ts';
import { naturalEventId } from '../../lambdas/core/event-id.ts';
import {
  AccessTokenExpiredError,
  InvalidClientError,
  InvalidGrantError,
  RateLimitedError,
  SpotifyClient,
  retryAfterSeconds,
} from '../../lambdas/core/spotify/client.ts';
import { fitText, normalisePlayedAt, playToEvent } from '../../lambdas/core/spotify/map.ts';
import { startLocalSpotifyApi, type LocalSpotifyApi } from '../../localstack/spotify-api/server.ts';

let api: LocalSpotifyApi;
const pkce = { clientId: 'cli-client' };
const confidential = { clientId: 'app-client', clientSecret: 's3cret' };

beforeAll(async () => {
  api = await startLocalSpotifyApi({ clients: { 'cli-client': null, 'app-client': 's3cret' } });
});
afterAll(async () => {
  await api?.close();
});

const client = (extra: ConstructorParameters<typeof SpotifyClient>[0] = {}) =>
  new SpotifyClient({ apiBaseUrl: api.url, accountsBaseUrl: api.url, backoffMs: 10, ...extra });

const play = (iso: string, id: string | null = `t-${iso}`) => ({
  played_at: iso,
  track: { id, name: `Song ${iso}`, duration_ms: 200_000, artists: ['A', 'B'], album: 'Album' },
});

describe('token refresh', () => {
  it('a PKCE client refreshes with its id only; a confidential one with Basic id:secret', async () => {
    const rt = api.addUser('alice', { country: 'SE' });
    const grant = await client().refresh(pkce, rt, 'alice');
    expect(grant.accessToken).toMatch(/^at-/);
    expect(grant.rotated).toBe(false);
    expect((await client().refresh(confidential, rt, 'alice')).accessToken).toMatch(/^at-/);
    // A confidential client that leaves out its secret is refused, naming the user.
    await expect(client().refresh({ clientId: 'app-client' }, rt, 'alice')).rejects.toBeInstanceOf(
      InvalidClientError,
    );
    await expect(client().refresh({ clientId: 'nobody' }, rt, 'alice')).rejects.toThrow(
      /user alice.*invalid_client/,
    );
  });

  it('returns a rotated refresh token, and the old one then answers invalid_grant', async () => {
    api.rotate = true;
    try {
      const rt = api.addUser('bob');
      const grant = await client().refresh(pkce, rt, 'bob');
      expect(grant.rotated).toBe(true);
      expect(grant.refreshToken).not.toBe(rt);
      const again = client().refresh(pkce, rt, 'bob');
      await expect(again).rejects.toBeInstanceOf(InvalidGrantError);
      await expect(again).rejects.toThrow(/user bob.*mds spotify login/);
    } finally {
      api.rotate = false;
    }
  });
});

describe('the Web API', () => {
  it('reads /v1/me, and pages recently-played after a cursor', async () => {
    const rt = api.addUser('carol', { country: 'DE' });
    api.play('carol', [
      play('2026-11-20T10:00:00.000Z'),
      play('2026-11-20T10:05:00.000Z'),
      play('2026-11-20T10:09:00.000Z'),
    ]);
    const c = client();
    const { accessToken } = await c.refresh(pkce, rt, 'carol');
    expect(await c.me(accessToken)).toEqual({ id: 'carol', country: 'DE' });
    const all = await c.recentlyPlayed(accessToken, { afterMs: null });
    expect(all.items.map((i) => i.played_at)).toEqual([
      '2026-11-20T10:09:00.000Z',
      '2026-11-20T10:05:00.000Z',
      '2026-11-20T10:00:00.000Z',
    ]);
    const after = await c.recentlyPlayed(accessToken, { afterMs: Date.parse('2026-11-20T10:00:00.000Z') });
    expect(after.items).toHaveLength(2);
    expect(after.cursors?.after).toBe(String(Date.parse('2026-11-20T10:09:00.000Z')));
    expect(api.requests('/v1/me/player/recently-played').at(-1)?.query).toEqual({
      limit: '50',
      after: String(Date.parse('2026-11-20T10:00:00.000Z')),
    });
  });

  it('a 401 is an AccessTokenExpiredError', async () => {
    const rt = api.addUser('dave');
    const c = client();
    const { accessToken } = await c.refresh(pkce, rt, 'dave');
    api.expireAccessTokens('dave');
    await expect(c.me(accessToken)).rejects.toBeInstanceOf(AccessTokenExpiredError);
  });

  it('waits out a 429 for Retry-After when the budget allows, and refuses when it does not', async () => {
    const rt = api.addUser('erin');
    const c = client();
    const { accessToken } = await c.refresh(pkce, rt, 'erin');
    api.fail('/v1/me', { status: 429, retryAfterSeconds: 1 });
    const started = performance.now();
    await c.me(accessToken);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1000);
    api.fail('/v1/me', { status: 429, retryAfterSeconds: 3600 });
    await expect(client({ remainingMs: () => 5_000 }).me(accessToken)).rejects.toBeInstanceOf(
      RateLimitedError,
    );
  });

  it('retries a 5xx with backoff, and gives up after its retries', async () => {
    const rt = api.addUser('fay');
    const c = client();
    const { accessToken } = await c.refresh(pkce, rt, 'fay');
    api.fail('/v1/me', { status: 503, times: 2 });
    await expect(c.me(accessToken)).resolves.toEqual({ id: 'fay', country: null });
    api.fail('/v1/me', { status: 502, times: 10 });
    await expect(client({ retries: 2 }).me(accessToken)).rejects.toThrow(/answered 502/);
  });

  it('Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfterSeconds('7')).toBe(7);
    expect(retryAfterSeconds('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('2015-10-21T07:28:00Z'))).toBe(10);
    expect(retryAfterSeconds(null)).toBe(1);
  });
});

describe('a play as a version-2 event', () => {
  const item = {
    played_at: '2026-11-20T10:00:00Z',
    track: {
      id: 'trk1',
      name: 'Song',
      duration_ms: 201_000,
      artists: [{ name: 'A' }, { name: 'B' }],
      album: { name: 'LP' },
    },
  };

  it('has the natural-key id and the fields of the source; what the API cannot know is null', () => {
    const r = playToEvent(item, { userId: 'u1', country: 'SE' });
    expect(r).toEqual({
      ok: true,
      event: {
        event_id: naturalEventId('spotify_api', 'u1', '2026-11-20T10:00:00.000Z', 'trk1'),
        user_id: 'u1',
        song_id: 'trk1',
        artist_name: 'A, B',
        song_name: 'Song',
        album_name: 'LP',
        track_length_ms: 201_000,
        event_type: 'play',
        device_type: null,
        country: 'SE',
        timestamp: '2026-11-20T10:00:00.000Z',
        duration_ms: null,
        source: 'spotify_api',
        schema_version: 2,
      },
    });
    expect(validateEvent(r.ok && r.event)).toMatchObject({ ok: true });
    // a country the contract does not list is unknown, not refused
    const xk = playToEvent(item, { userId: 'u1', country: 'XK' });
    expect(xk.ok && xk.event.country).toBeNull();
    expect(validateEvent(xk.ok && xk.event)).toMatchObject({ ok: true });
    // played_at with or without milliseconds or with an offset is the same instant, so the same id.
    const a = playToEvent(
      { ...item, played_at: '2026-11-20T11:00:00.000+01:00' },
      { userId: 'u1', country: null },
    );
    expect(a.ok && a.event.event_id).toBe(r.ok && r.event.event_id);
    expect(normalisePlayedAt('2026-11-20T10:00:00.5Z')).toBe('2026-11-20T10:00:00.500Z');
  });

  it('leaves out a local file (no track id), and cuts a long name with a marker', () => {
    expect(
      playToEvent({ ...item, track: { ...item.track, id: null } }, { userId: 'u', country: null }).ok,
    ).toBe(false);
    const long = 'x'.repeat(MAX_TEXT_LENGTH + 10);
    const cut = fitText(long);
    expect(cut).toHaveLength(MAX_TEXT_LENGTH);
    expect(cut.endsWith('…')).toBe(true);
    // a surrogate pair is never split
    const emoji = `${'y'.repeat(MAX_TEXT_LENGTH - 2)}😀😀`;
    expect(fitText(emoji)).toBe(`${'y'.repeat(MAX_TEXT_LENGTH - 2)}…`);
  });
});
