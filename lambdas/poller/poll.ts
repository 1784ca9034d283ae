/**
 * One poll of every connected user: refresh the access token (a rotated refresh token is saved before
 * anything else, as the old one no longer works), ask /v1/me for the country once, page through
 * recently-played after the user's cursor, produce each play keyed by user, and only after Kafka
 * acknowledged them move the cursor to the newest play. A failure leaves that user's cursor where it was, so
 * the next poll asks for the same plays again; their event ids are derived from (user, played_at, track), so
 * Silver keeps each once.
 *
 * A user whose consent is gone (invalid_grant) is skipped and counted; any other failure of one user is
 * counted with its message; the others go on either way.
 */
import type { Producer } from 'kafkajs';
import { errorMessage } from '../core/errors.ts';
import { kafkaFailure, produceRecords } from '../core/produce.ts';
import {
  AccessTokenExpiredError,
  InvalidGrantError,
  RECENTLY_PLAYED_LIMIT,
  type PlayItem,
  type SpotifyClient,
} from '../core/spotify/client.ts';
import { playToEvent, type SpotifyApiEvent } from '../core/spotify/map.ts';
import type { CursorStore, TokenStore } from './stores.ts';

/** Pages of recently-played followed per user and poll (Spotify keeps 50 plays: one page at limit=50). */
export const MAX_PAGES = 10;

export interface UserPollResult {
  readonly userId: string;
  readonly status: 'polled' | 'invalid_grant' | 'failed';
  readonly plays: number;
  /** Plays left out (local files without a Spotify id). */
  readonly leftOut: number;
  /** A full page since the cursor: older plays may have fallen out of Spotify's last 50. */
  readonly possibleGap: boolean;
  readonly cursorBefore: number | null;
  readonly cursorAfter: number | null;
  readonly tokenRefreshes: number;
  readonly rotated: boolean;
  readonly message?: string;
}

export interface PollSummary {
  readonly users: number;
  readonly polled: number;
  readonly invalidGrant: number;
  readonly failed: number;
  readonly plays: number;
  readonly leftOut: number;
  readonly possibleGaps: number;
  readonly results: readonly UserPollResult[];
}

export interface PollDeps {
  readonly client: SpotifyClient;
  readonly tokens: TokenStore;
  readonly cursors: CursorStore;
  readonly producer: () => Promise<Producer>;
  readonly topic: string;
  readonly brokers: readonly string[];
  /** Access tokens kept between polls of one process / execution environment. */
  readonly accessTokens?: Map<string, { token: string; expiresAt: number }>;
  readonly now?: () => number;
  readonly log?: (message: string, extra: Record<string, unknown>) => void;
}

export async function pollAll(deps: PollDeps): Promise<PollSummary> {
  const users = await deps.tokens.users();
  const results: UserPollResult[] = [];
  for (const userId of users) results.push(await pollUser(deps, userId));
  const count = (s: UserPollResult['status']) => results.filter((r) => r.status === s).length;
  return {
    users: users.length,
    polled: count('polled'),
    invalidGrant: count('invalid_grant'),
    failed: count('failed'),
    plays: results.reduce((n, r) => n + r.plays, 0),
    leftOut: results.reduce((n, r) => n + r.leftOut, 0),
    possibleGaps: results.filter((r) => r.possibleGap).length,
    results,
  };
}

export async function pollUser(deps: PollDeps, userId: string): Promise<UserPollResult> {
  const now = deps.now ?? Date.now;
  const cache = deps.accessTokens ?? new Map<string, { token: string; expiresAt: number }>();
  let refreshes = 0;
  let rotated = false;
  let cursorBefore: number | null = null;
  const refresh = async (): Promise<string> => {
    const client = await deps.tokens.client();
    const grant = await deps.client.refresh(client, await deps.tokens.refreshToken(userId), userId);
    refreshes += 1;
    if (grant.rotated) {
      rotated = true;
      await deps.tokens.saveRefreshToken(userId, grant.refreshToken);
    }
    // Renewed a minute before Spotify's expiry.
    cache.set(userId, { token: grant.accessToken, expiresAt: now() + (grant.expiresInSeconds - 60) * 1000 });
    return grant.accessToken;
  };
  /** Runs a call with the access token; a refused token is refreshed once and the call made again. */
  const withToken = async <T>(call: (token: string) => Promise<T>): Promise<T> => {
    const cached = cache.get(userId);
    const token = cached && cached.expiresAt > now() ? cached.token : await refresh();
    try {
      return await call(token);
    } catch (err) {
      if (!(err instanceof AccessTokenExpiredError)) throw err;
      cache.delete(userId);
      return call(await refresh());
    }
  };
  try {
    const state = await deps.cursors.get(userId);
    cursorBefore = state?.cursorMs ?? null;
    let country = state?.country;
    if (country === undefined) country = (await withToken((t) => deps.client.me(t))).country;

    const items: PlayItem[] = [];
    let firstPageSize = 0;
    let page = await withToken((t) => deps.client.recentlyPlayed(t, { afterMs: cursorBefore }));
    firstPageSize = page.items.length;
    for (let pages = 1; ; pages++) {
      const fresh = page.items.filter((i) => cursorBefore === null || Date.parse(i.played_at) > cursorBefore);
      items.push(...fresh);
      if (!page.next || fresh.length === 0 || pages >= MAX_PAGES) break;
      const next = page.next;
      page = await withToken((t) => deps.client.recentlyPlayed(t, { next }));
    }
    const possibleGap = cursorBefore !== null && firstPageSize >= RECENTLY_PLAYED_LIMIT;

    const events = new Map<string, SpotifyApiEvent>();
    let leftOut = 0;
    let newest = cursorBefore;
    for (const item of items) {
      const ms = Date.parse(item.played_at);
      if (newest === null || ms > newest) newest = ms;
      const mapped = playToEvent(item, { userId, country });
      if (mapped.ok) events.set(mapped.event.event_id, mapped.event);
      else leftOut += 1;
    }
    const ordered = [...events.values()].sort((a, b) => a.timestamp.localeCompare(b.timestamp));
    if (ordered.length > 0) {
      const sendTime = new Date(now());
      try {
        await produceRecords(
          await deps.producer(),
          deps.topic,
          ordered.map((e) => ({ key: userId, value: JSON.stringify(e), sendTime })),
        );
      } catch (err) {
        throw kafkaFailure(err, deps.brokers, deps.topic);
      }
    }
    // Only now, with every play acknowledged, does the cursor move.
    if (newest !== cursorBefore || state?.country !== country) {
      await deps.cursors.put(userId, { cursorMs: newest, country });
    }
    deps.log?.('user polled', { userId, plays: ordered.length, leftOut, possibleGap, cursor: newest });
    return {
      userId,
      status: 'polled',
      plays: ordered.length,
      leftOut,
      possibleGap,
      cursorBefore,
      cursorAfter: newest,
      tokenRefreshes: refreshes,
      rotated,
    };
  } catch (err) {
    const invalid = err instanceof InvalidGrantError;
    const text = errorMessage(err);
    const message = text.startsWith(`Spotify user ${userId}:`) ? text : `Spotify user ${userId}: ${text}`;
    deps.log?.(invalid ? 'user skipped' : 'user failed', { userId, error: message });
    return {
      userId,
      status: invalid ? 'invalid_grant' : 'failed',
      plays: 0,
      leftOut: 0,
      possibleGap: false,
      cursorBefore,
      cursorAfter: cursorBefore,
      tokenRefreshes: refreshes,
      rotated,
      message,
    };
  }
}
