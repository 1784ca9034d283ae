/**
 * `mds spotify login` against the local accounts server: the PKCE flow with its callback on 127.0.0.1, the
 * token stored in the data directory with mode 0600; a refused authorization is one clear error.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login } from '../../bin/commands/spotify.ts';
import { localSpotifyPaths } from '../../lambdas/poller/stores.ts';
import { startLocalSpotifyApi, type LocalSpotifyApi } from '../../localstack/spotify-api/server.ts';

let dir: string;
let api: LocalSpotifyApi;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mds-login-'));
  api = await startLocalSpotifyApi({ clients: { 'cli-app': null } });
  api.addUser('lena', { country: 'NO' });
});
afterAll(async () => {
  await api?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs login and plays the browser: opens the printed authorize URL, following the redirect to the callback. */
async function loginWithBrowser(): Promise<{ user: Promise<string>; page: Promise<string>; authorize: URL }> {
  let printed: (url: string) => void;
  const url = new Promise<string>((r) => (printed = r));
  const user = login(
    {
      clientId: 'cli-app',
      port: '0',
      dataDir: dir,
      apiBaseUrl: api.url,
      accountsBaseUrl: api.url,
      timeoutSeconds: '20',
    },
    (line) => printed(line.split('\n')[1]!),
  );
  user.catch(() => undefined);
  const authorize = new URL(await url);
  const page = fetch(authorize).then((r) => r.text());
  return { user, page, authorize };
}

describe('mds spotify login', () => {
  it('runs the PKCE flow with a 127.0.0.1 callback and stores the refresh token with mode 0600', async () => {
    api.loginUser = 'lena';
    const { user, page, authorize } = await loginWithBrowser();
    expect(authorize.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('scope')).toBe('user-read-recently-played user-read-private');
    expect(await page).toMatch(/Connected/);
    expect(await user).toBe('lena');
    const file = localSpotifyPaths(dir).tokens;
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(file, 'utf8')) as {
      client_id: string;
      client_secret?: string;
      users: Record<string, { refresh_token: string }>;
    };
    expect(stored.client_id).toBe('cli-app');
    expect(stored.client_secret).toBeUndefined();
    expect(api.refreshTokensOf('lena')).toContain(stored.users.lena!.refresh_token);
    // The code was exchanged as a PKCE client: the body's client_id and the verifier, no Authorization header.
    expect(api.requests('/api/token').at(-1)?.status).toBe(200);
  });

  it('a refused authorization is one error saying so', async () => {
    api.loginUser = undefined;
    const { user, page } = await loginWithBrowser();
    expect(await page).toMatch(/Not connected: access_denied/);
    await expect(user).rejects.toThrow(/Spotify login: the authorization was not granted \(access_denied\)/);
  });

  it('without a client id it asks for one', async () => {
    await expect(
      login({ port: '0', dataDir: dir, apiBaseUrl: api.url, accountsBaseUrl: api.url, timeoutSeconds: '1' }),
    ).rejects.toThrow(/--client-id: the Spotify app client id is required/);
  });
});
