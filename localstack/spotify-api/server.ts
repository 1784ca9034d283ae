/**
 * A local HTTP server of the parts of the Spotify Web API and Accounts service the poller and `mds spotify
 * login` use, with the documented shapes, scriptable by tests:
 *
 * - GET  /authorize (accounts): the PKCE authorization step; approves at once for the scripted login user and
 *   redirects to redirect_uri with `code` and `state` (or `error=access_denied`).
 * - POST /api/token (accounts): grant_type authorization_code (checks the S256 code_verifier) and refresh_token;
 *   client authentication by `Authorization: Basic` (a confidential client) or `client_id` in the body (PKCE);
 *   an unknown client answers 401 `invalid_client`, an unknown or revoked refresh token 400 `invalid_grant`;
 *   with `rotate` every refresh returns a new refresh token and revokes the old one.
 * - GET  /v1/me: `{ id, country, display_name, ... }` (country only if the user has one).
 * - GET  /v1/me/player/recently-played?limit&after|before: the user's last `retain` (50) plays, newest first,
 *   with `cursors { after, before }` (unix ms as strings), `next`, `limit`, `href`; after and before together
 *   answer 400 as Spotify does.
 * - Faults: `fail(path, { status, retryAfterSeconds, times })` answers the next requests to a path with that
 *   status (429 with Retry-After, 5xx); `expireAccessTokens(user)` makes that user's access tokens answer 401.
 * `hold(path, user)` keeps one request waiting until the test releases it. Every request is logged (method, path, query, status) for the tests' assertions.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalTrack {
  readonly id: string | null;
  readonly name: string;
  readonly duration_ms: number;
  readonly artists: readonly string[];
  readonly album: string;
}

export interface LocalPlay {
  /** ISO-8601 with milliseconds and Z, as Spotify sends it. */
  readonly played_at: string;
  readonly track: LocalTrack;
}

export interface LocalUser {
  readonly id: string;
  readonly country?: string;
  plays: LocalPlay[];
}

export interface Fault {
  readonly status: number;
  readonly retryAfterSeconds?: number;
  /** @default 1 */
  times?: number;
}

export interface RequestLogEntry {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly status: number;
  readonly at: number;
  readonly user?: string;
}

export interface LocalSpotifyApiOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Client id → secret (null: a PKCE client without a secret). */
  readonly clients?: Readonly<Record<string, string | null>>;
  /** Every refresh returns a new refresh token and revokes the old one. @default false */
  readonly rotate?: boolean;
  /** Plays recently-played keeps per user, as Spotify's 50. @default 50 */
  readonly retain?: number;
}

export class LocalSpotifyApi {
  readonly users = new Map<string, LocalUser>();
  readonly log: RequestLogEntry[] = [];
  readonly clients: Map<string, string | null>;
  rotate: boolean;
  /** The user /authorize approves; unset = access_denied. */
  loginUser: string | undefined;
  private readonly retain: number;
  private readonly refreshTokens = new Map<string, string>(); // token -> user
  private readonly accessTokens = new Map<string, { user: string; expired: boolean }>();
  private readonly codes = new Map<
    string,
    { user: string; challenge: string; redirectUri: string; clientId: string }
  >();
  private readonly faults = new Map<string, Fault[]>();
  private readonly holds: { path: string; user?: string; arrived: () => void; released: Promise<void> }[] =
    [];
  private server: Server | undefined;
  private baseUrl = '';

  constructor(private readonly options: LocalSpotifyApiOptions = {}) {
    this.clients = new Map(Object.entries(options.clients ?? { 'local-client': null }));
    this.rotate = options.rotate ?? false;
    this.retain = options.retain ?? 50;
  }

  /** Base URL of both the API and the accounts service (one server serves both). */
  get url(): string {
    return this.baseUrl;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.send(res, req, 500, { error: { status: 500, message: String(err) } });
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Adds a user with a refresh token; returns the token. */
  addUser(id: string, options: { country?: string; refreshToken?: string } = {}): string {
    if (!this.users.has(id)) this.users.set(id, { id, country: options.country, plays: [] });
    const token = options.refreshToken ?? `rt-${id}-${randomBytes(6).toString('hex')}`;
    this.refreshTokens.set(token, id);
    return token;
  }

  /** Revokes every refresh token of a user (the consent expired): the next refresh answers invalid_grant. */
  revoke(userId: string): void {
    for (const [token, user] of this.refreshTokens) if (user === userId) this.refreshTokens.delete(token);
  }

  /** Records plays (any order); recently-played keeps the newest `retain`. */
  play(userId: string, plays: readonly LocalPlay[]): void {
    const user = this.users.get(userId);
    if (!user) throw new Error(`local Spotify API: no user ${userId}`);
    user.plays = [...user.plays, ...plays]
      .sort((a, b) => Date.parse(b.played_at) - Date.parse(a.played_at))
      .slice(0, this.retain);
  }

  /** The next `times` requests to `path` answer `status` (429 with Retry-After when given). */
  fail(path: string, fault: Fault): void {
    const list = this.faults.get(path) ?? [];
    list.push({ ...fault, times: fault.times ?? 1 });
    this.faults.set(path, list);
  }

  /**
   * Holds the next authorized request to `path` (of `user`, if given) until `release()`: `reached` resolves
   * when it arrives, so a test can act (stop the broker, say) in the middle of a poll.
   */
  hold(path: string, user?: string): { reached: Promise<void>; release: () => void } {
    let arrived!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((r) => (arrived = r));
    const released = new Promise<void>((r) => (release = r));
    this.holds.push({ path, user, arrived, released });
    return { reached, release };
  }

  /** Every access token issued so far to the user answers 401, as an expired one does. */
  expireAccessTokens(userId: string): void {
    for (const t of this.accessTokens.values()) if (t.user === userId) t.expired = true;
  }

  /** The refresh tokens currently valid for a user. */
  refreshTokensOf(userId: string): string[] {
    return [...this.refreshTokens].filter(([, u]) => u === userId).map(([t]) => t);
  }

  requests(path: string): RequestLogEntry[] {
    return this.log.filter((e) => e.path === path);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const fault = this.faults.get(url.pathname)?.[0];
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      if (fault.times <= 0) this.faults.get(url.pathname)!.shift();
      if (fault.retryAfterSeconds !== undefined)
        res.setHeader('retry-after', String(fault.retryAfterSeconds));
      const message = fault.status === 429 ? 'API rate limit exceeded' : 'Service unavailable';
      return this.send(res, req, fault.status, { error: { status: fault.status, message } });
    }
    if (req.method === 'GET' && url.pathname === '/authorize') return this.authorize(req, res, url);
    if (req.method === 'POST' && url.pathname === '/api/token') return this.token(req, res);
    if (req.method === 'GET' && url.pathname.startsWith('/v1/')) {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const access = bearer ? this.accessTokens.get(bearer) : undefined;
      if (!access)
        return this.send(res, req, 401, { error: { status: 401, message: 'Invalid access token' } });
      if (access.expired) {
        return this.send(
          res,
          req,
          401,
          { error: { status: 401, message: 'The access token expired' } },
          access.user,
        );
      }
      const user = this.users.get(access.user)!;
      const held = this.holds.findIndex((h) => h.path === url.pathname && (!h.user || h.user === user.id));
      if (held >= 0) {
        const [h] = this.holds.splice(held, 1);
        h!.arrived();
        await h!.released;
      }
      if (url.pathname === '/v1/me') {
        return this.send(
          res,
          req,
          200,
          {
            id: user.id,
            display_name: user.id,
            type: 'user',
            uri: `spotify:user:${user.id}`,
            href: `${this.baseUrl}/v1/users/${user.id}`,
            ...(user.country ? { country: user.country } : {}),
          },
          user.id,
        );
      }
      if (url.pathname === '/v1/me/player/recently-played') return this.recentlyPlayed(req, res, url, user);
    }
    this.send(res, req, 404, { error: { status: 404, message: 'Service not found' } });
  }

  private recentlyPlayed(req: IncomingMessage, res: ServerResponse, url: URL, user: LocalUser): void {
    const limit = Math.min(50, Math.max(1, Number(url.searchParams.get('limit') ?? 20) || 20));
    const after = url.searchParams.get('after');
    const before = url.searchParams.get('before');
    if (after !== null && before !== null) {
      return this.send(
        res,
        req,
        400,
        { error: { status: 400, message: 'Only one of after and before may be set' } },
        user.id,
      );
    }
    const newestFirst = user.plays;
    let page: LocalPlay[];
    let more: boolean;
    if (after !== null) {
      const newer = newestFirst.filter((p) => Date.parse(p.played_at) > Number(after));
      page = newer.slice(Math.max(0, newer.length - limit)); // the oldest `limit` after the cursor
      more = newer.length > limit;
    } else {
      const older =
        before === null ? newestFirst : newestFirst.filter((p) => Date.parse(p.played_at) < Number(before));
      page = older.slice(0, limit);
      more = older.length > limit;
    }
    const newestMs = page.length ? String(Date.parse(page[0]!.played_at)) : after;
    const oldestMs = page.length ? String(Date.parse(page.at(-1)!.played_at)) : before;
    const base = `${this.baseUrl}/v1/me/player/recently-played?limit=${limit}`;
    const next = !more ? null : after !== null ? `${base}&after=${newestMs}` : `${base}&before=${oldestMs}`;
    this.send(
      res,
      req,
      200,
      {
        href: `${this.baseUrl}${url.pathname}${url.search}`,
        limit,
        next,
        cursors: page.length ? { after: newestMs, before: oldestMs } : null,
        items: page.map((p) => ({
          played_at: p.played_at,
          context: null,
          track: {
            id: p.track.id,
            name: p.track.name,
            duration_ms: p.track.duration_ms,
            type: 'track',
            is_local: p.track.id === null,
            uri: p.track.id ? `spotify:track:${p.track.id}` : null,
            album: { name: p.track.album, album_type: 'album', type: 'album' },
            artists: p.track.artists.map((name) => ({ name, type: 'artist' })),
          },
        })),
      },
      user.id,
    );
  }

  private authorize(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const redirect = url.searchParams.get('redirect_uri') ?? '';
    const state = url.searchParams.get('state') ?? '';
    const clientId = url.searchParams.get('client_id') ?? '';
    const target = new URL(redirect);
    if (
      !this.clients.has(clientId) ||
      !this.loginUser ||
      url.searchParams.get('code_challenge_method') !== 'S256'
    ) {
      target.searchParams.set('error', this.clients.has(clientId) ? 'access_denied' : 'invalid_client');
    } else {
      const code = `code-${randomBytes(8).toString('hex')}`;
      this.codes.set(code, {
        user: this.loginUser,
        challenge: url.searchParams.get('code_challenge') ?? '',
        redirectUri: redirect,
        clientId,
      });
      target.searchParams.set('code', code);
    }
    target.searchParams.set('state', state);
    res.setHeader('location', target.toString());
    this.send(res, req, 302, {});
  }

  private async token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    let clientId = form.get('client_id') ?? '';
    let secret: string | null = null;
    if (basic) {
      const [id, s] = Buffer.from(basic, 'base64').toString('utf8').split(':');
      clientId = id ?? '';
      secret = s ?? '';
    }
    const known = this.clients.get(clientId);
    // A confidential client must send its secret; a PKCE client (no secret registered) sends only its id.
    if (known === undefined || (known !== null && known !== secret) || (known === null && secret !== null)) {
      return this.send(res, req, 401, { error: 'invalid_client', error_description: 'Invalid client' });
    }
    const grant = form.get('grant_type');
    let user: string | undefined;
    if (grant === 'authorization_code') {
      const code = this.codes.get(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (
        !code ||
        code.challenge !== challenge ||
        code.redirectUri !== form.get('redirect_uri') ||
        code.clientId !== clientId
      ) {
        return this.send(res, req, 400, {
          error: 'invalid_grant',
          error_description: 'Invalid authorization code',
        });
      }
      this.codes.delete(form.get('code')!);
      user = code.user;
    } else if (grant === 'refresh_token') {
      const refresh = form.get('refresh_token') ?? '';
      user = this.refreshTokens.get(refresh);
      if (!user)
        return this.send(res, req, 400, {
          error: 'invalid_grant',
          error_description: 'Refresh token revoked',
        });
      if (!this.rotate) {
        const access = this.issueAccess(user);
        return this.send(
          res,
          req,
          200,
          {
            access_token: access,
            token_type: 'Bearer',
            expires_in: 3600,
            scope: 'user-read-recently-played user-read-private',
          },
          user,
        );
      }
      this.refreshTokens.delete(refresh);
    } else {
      return this.send(res, req, 400, { error: 'unsupported_grant_type', error_description: String(grant) });
    }
    const refreshToken = `rt-${user}-${randomBytes(6).toString('hex')}`;
    this.refreshTokens.set(refreshToken, user);
    this.send(
      res,
      req,
      200,
      {
        access_token: this.issueAccess(user),
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: refreshToken,
        scope: 'user-read-recently-played user-read-private',
      },
      user,
    );
  }

  private issueAccess(user: string): string {
    const token = `at-${randomBytes(12).toString('hex')}`;
    this.accessTokens.set(token, { user, expired: false });
    return token;
  }

  private send(
    res: ServerResponse,
    req: IncomingMessage,
    status: number,
    body: unknown,
    user?: string,
  ): void {
    const url = new URL(req.url ?? '/', this.baseUrl || 'http://127.0.0.1');
    this.log.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status,
      at: Date.now(),
      user,
    });
    res.statusCode = status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(body));
  }
}

export async function startLocalSpotifyApi(options: LocalSpotifyApiOptions = {}): Promise<LocalSpotifyApi> {
  return new LocalSpotifyApi(options).start();
}
