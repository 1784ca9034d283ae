/**
 * A small client of the Spotify Web API and the Spotify Accounts service, on `fetch`, with both base URLs as
 * parameters (tests and the local run point them at localstack/spotify-api).
 *
 * What it relies on, from Spotify's documentation ("Refreshing tokens", "Authorization code with PKCE",
 * "Rate limits", "Get Recently Played Tracks", "Get Current User's Profile"):
 * - POST {accounts}/api/token, form-encoded, grant_type=refresh_token. A client with a secret authenticates
 *   with `Authorization: Basic base64(client_id:client_secret)`; a PKCE client (the CLI) sends only
 *   `client_id` in the body. The answer may carry a new `refresh_token` (rotation); when it does, the old one
 *   stops working and the new one must be kept. An expired or revoked grant answers 400 `invalid_grant`;
 *   wrong client credentials answer 400/401 `invalid_client`.
 * - GET {api}/v1/me/player/recently-played?limit=50&after=<unix ms> (only one of after/before) returns at most
 *   the last 50 plays, newest first, with `cursors.after` and `next`.
 * - 429 carries `Retry-After` in seconds (rate limits are over a rolling 30 s window; users report waits of
 *   an hour); 5xx is retried with exponential backoff; 401 means the access token expired.
 */
import { createHash, randomBytes } from 'node:crypto';
import { MdsError, TransientError } from '../errors.ts';

export const DEFAULT_API_BASE_URL = 'https://api.spotify.com';
export const DEFAULT_ACCOUNTS_BASE_URL = 'https://accounts.spotify.com';
/** The scopes the poller needs: recently-played, and the profile's country. */
export const SPOTIFY_SCOPES = ['user-read-recently-played', 'user-read-private'] as const;
/** The largest page recently-played serves. */
export const RECENTLY_PLAYED_LIMIT = 50;

/** The user's refresh token no longer works (expired or revoked consent): only the user can reconnect. */
export class InvalidGrantError extends MdsError {
  constructor(
    readonly userId: string,
    detail: string,
  ) {
    super(
      `Spotify user ${userId}: the consent expired or was revoked (invalid_grant: ${detail}); the user must reconnect with: mds spotify login`,
    );
  }
}

/** The accounts service refused the client id / secret. */
export class InvalidClientError extends MdsError {
  constructor(
    readonly userId: string,
    detail: string,
  ) {
    super(
      `Spotify user ${userId}: the accounts service refused the client credentials (invalid_client: ${detail}); check the client id and secret (SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET locally, the client secret in AWS)`,
    );
  }
}

/** The access token was refused (401): refresh it and try once more. */
export class AccessTokenExpiredError extends MdsError {}

/** A 429 whose Retry-After does not fit in the time left. */
export class RateLimitedError extends TransientError {
  constructor(
    readonly retryAfterSeconds: number,
    what: string,
  ) {
    super(
      `Spotify rate limit on ${what}: Retry-After ${retryAfterSeconds} s is longer than the time left; the next poll continues from the same cursor`,
    );
  }
}

/** Any other answer the client cannot use. */
export class SpotifyApiError extends MdsError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface SpotifyClientOptions {
  readonly apiBaseUrl?: string;
  readonly accountsBaseUrl?: string;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Milliseconds left for waiting (e.g. the invocation's remaining time less a margin). @default unbounded */
  readonly remainingMs?: () => number;
  /** Retries of a 5xx or a network error. @default 4 */
  readonly retries?: number;
  /** First backoff in ms, doubled each retry. @default 500 */
  readonly backoffMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface ClientCredentials {
  readonly clientId: string;
  /** Absent for a PKCE client. */
  readonly clientSecret?: string;
}

export interface TokenGrant {
  readonly accessToken: string;
  readonly expiresInSeconds: number;
  /** The refresh token to keep: the rotated one if the service sent one, else the one used. */
  readonly refreshToken: string;
  readonly rotated: boolean;
}

export interface SpotifyProfile {
  readonly id: string;
  /** ISO 3166-1 alpha-2, or null if the profile does not say (needs user-read-private). */
  readonly country: string | null;
}

export interface PlayItem {
  readonly played_at: string;
  readonly track: {
    readonly id: string | null;
    readonly name: string;
    readonly duration_ms: number;
    readonly artists: readonly { readonly name: string }[];
    readonly album?: { readonly name?: string | null } | null;
  };
}

export interface RecentlyPlayedPage {
  readonly items: readonly PlayItem[];
  readonly next: string | null;
  readonly cursors: { readonly after?: string | null; readonly before?: string | null } | null;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class SpotifyClient {
  readonly apiBaseUrl: string;
  readonly accountsBaseUrl: string;
  private readonly fetchFn: typeof fetch;
  private readonly remainingMs: () => number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: SpotifyClientOptions = {}) {
    this.apiBaseUrl = (options.apiBaseUrl ?? DEFAULT_API_BASE_URL).replace(/\/+$/, '');
    this.accountsBaseUrl = (options.accountsBaseUrl ?? DEFAULT_ACCOUNTS_BASE_URL).replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? globalThis.fetch;
    this.remainingMs = options.remainingMs ?? (() => Number.POSITIVE_INFINITY);
    this.retries = options.retries ?? 4;
    this.backoffMs = options.backoffMs ?? 500;
    this.sleep = options.sleep ?? sleepFor;
  }

  /** A new access token from a refresh token; `userId` only names the user in errors. */
  async refresh(client: ClientCredentials, refreshToken: string, userId: string): Promise<TokenGrant> {
    const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
    const grant = await this.token(client, body, userId);
    return { ...grant, refreshToken: grant.refreshToken ?? refreshToken, rotated: !!grant.refreshToken };
  }

  /** The authorization code of the PKCE flow, exchanged for the first tokens. */
  async exchangeCode(
    client: ClientCredentials,
    code: string,
    redirectUri: string,
    codeVerifier: string,
  ): Promise<TokenGrant> {
    const body = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: codeVerifier,
    });
    const grant = await this.token(client, body, '(login)');
    if (!grant.refreshToken)
      throw new SpotifyApiError(200, 'Spotify accounts: no refresh_token in the answer');
    return { ...grant, refreshToken: grant.refreshToken, rotated: false };
  }

  /** The current user's id and country (GET /v1/me). */
  async me(accessToken: string): Promise<SpotifyProfile> {
    const body = (await this.api(accessToken, `${this.apiBaseUrl}/v1/me`, 'GET /v1/me')) as {
      id?: unknown;
      country?: unknown;
    };
    if (typeof body.id !== 'string' || !body.id) throw new SpotifyApiError(200, 'GET /v1/me: no user id');
    return { id: body.id, country: typeof body.country === 'string' && body.country ? body.country : null };
  }

  /** One page of recently-played: after a cursor (unix ms), or the URL of a `next`. */
  async recentlyPlayed(
    accessToken: string,
    from: { afterMs: number | null } | { next: string },
  ): Promise<RecentlyPlayedPage> {
    const url =
      'next' in from
        ? from.next
        : `${this.apiBaseUrl}/v1/me/player/recently-played?limit=${RECENTLY_PLAYED_LIMIT}` +
          (from.afterMs !== null ? `&after=${from.afterMs}` : '');
    const body = (await this.api(accessToken, url, 'GET /v1/me/player/recently-played')) as {
      items?: unknown;
      next?: unknown;
      cursors?: unknown;
    };
    if (!Array.isArray(body.items)) {
      throw new SpotifyApiError(200, 'GET /v1/me/player/recently-played: the answer has no items array');
    }
    return {
      items: body.items as PlayItem[],
      next: typeof body.next === 'string' && body.next ? body.next : null,
      cursors: (body.cursors as RecentlyPlayedPage['cursors']) ?? null,
    };
  }

  private async token(
    client: ClientCredentials,
    body: URLSearchParams,
    userId: string,
  ): Promise<{ accessToken: string; expiresInSeconds: number; refreshToken?: string }> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (client.clientSecret) {
      headers.authorization = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`;
    } else {
      body.set('client_id', client.clientId);
    }
    const response = await this.send(`${this.accountsBaseUrl}/api/token`, 'POST /api/token', {
      method: 'POST',
      headers,
      body: body.toString(),
    });
    const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) {
      const error = String(json.error ?? response.status);
      const detail = String(json.error_description ?? error);
      if (error === 'invalid_grant') throw new InvalidGrantError(userId, detail);
      if (error === 'invalid_client' || response.status === 401) throw new InvalidClientError(userId, detail);
      throw new SpotifyApiError(
        response.status,
        `Spotify accounts: POST /api/token answered ${response.status} (${detail})`,
      );
    }
    if (typeof json.access_token !== 'string') {
      throw new SpotifyApiError(response.status, 'Spotify accounts: no access_token in the answer');
    }
    return {
      accessToken: json.access_token,
      expiresInSeconds: Number(json.expires_in ?? 3600),
      refreshToken:
        typeof json.refresh_token === 'string' && json.refresh_token ? json.refresh_token : undefined,
    };
  }

  private async api(accessToken: string, url: string, what: string): Promise<unknown> {
    const response = await this.send(url, what, { headers: { authorization: `Bearer ${accessToken}` } });
    if (response.status === 401) {
      await response.body?.cancel();
      throw new AccessTokenExpiredError(`${what}: the access token was refused (401)`);
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      throw new SpotifyApiError(
        response.status,
        `${what} answered ${response.status}: ${text.slice(0, 200)}`,
      );
    }
    return response.json();
  }

  /** One request, with 429 waited out within the time left and 5xx / network errors retried with backoff. */
  private async send(url: string, what: string, init: RequestInit): Promise<Response> {
    let attempt = 0;
    for (;;) {
      let response: Response | undefined;
      let failure: unknown;
      try {
        response = await this.fetchFn(url, init);
      } catch (err) {
        failure = err;
      }
      if (response?.status === 429) {
        const seconds = retryAfterSeconds(response.headers.get('retry-after'));
        await response.body?.cancel();
        const waitMs = seconds * 1000;
        if (waitMs > this.remainingMs()) throw new RateLimitedError(seconds, what);
        await this.sleep(waitMs);
        continue; // a 429 is not one of the retries: it says when to come back
      }
      const retryable = failure !== undefined || (response !== undefined && response.status >= 500);
      if (!retryable) return response!;
      if (attempt >= this.retries) {
        if (response) return response;
        throw new TransientError(
          `${what}: ${url.split('?')[0]} unreachable after ${attempt + 1} attempts (${String(failure)})`,
          {
            cause: failure,
          },
        );
      }
      await response?.body?.cancel();
      const waitMs = this.backoffMs * 2 ** attempt;
      if (waitMs > this.remainingMs()) {
        if (response) return response;
        throw new TransientError(`${what}: unreachable and no time left to retry (${String(failure)})`, {
          cause: failure,
        });
      }
      attempt += 1;
      await this.sleep(waitMs);
    }
  }
}

/** Retry-After in seconds (RFC 9110: delay-seconds or an HTTP date); a missing or bad value counts as 1 s. */
export function retryAfterSeconds(header: string | null, now: number = Date.now()): number {
  if (header === null || header.trim() === '') return 1;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value);
  const date = Date.parse(value);
  if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - now) / 1000));
  return 1;
}

/** PKCE (RFC 7636): a verifier of 64 unreserved characters and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(48).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}
