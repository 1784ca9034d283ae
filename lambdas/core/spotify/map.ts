/**
 * A recently-played item as a listening event of contract version 2 (pure).
 *
 * - event_id: naturalEventId('spotify_api', user, played_at, track id), so a re-poll gives the same id.
 * - timestamp: `played_at` in UTC with a Z. Spotify documents it as "the date and time the track was
 *   played"; its users' issue threads (spotify/web-api #613, #1083, #1186) report that it is usually when
 *   the play was registered, i.e. near the end of the play. It is the event time as Spotify gives it.
 * - artist_name: every artist's name joined with ", ", in Spotify's order.
 * - What the API does not say is null, not invented: device_type, duration_ms (milliseconds listened); a
 *   country the contract does not list (Spotify serves XK, say) is null too.
 * - A name longer than the contract allows is cut to MAX_TEXT_LENGTH with a trailing "…", so the play lands
 *   (the id fields identify the track; only the display name is shortened).
 */
import {
  COUNTRY_CODES,
  MAX_DURATION_MS,
  MAX_TEXT_LENGTH,
  type CountryCode,
  type ListeningEventV2,
} from '../contract.ts';
import { naturalEventId } from '../event-id.ts';
import type { PlayItem } from './client.ts';

export const SPOTIFY_API_SOURCE = 'spotify_api' as const;
export const TRUNCATION_MARKER = '…';

/** The version-2 event the poller produces: the contract's, with this source's constants. */
export type SpotifyApiEvent = ListeningEventV2 & {
  readonly event_type: 'play';
  readonly device_type: null;
  readonly duration_ms: null;
  readonly source: typeof SPOTIFY_API_SOURCE;
};

const COUNTRIES: ReadonlySet<string> = new Set(COUNTRY_CODES);

/** The profile's country as the contract takes it: an ISO 3166-1 alpha-2 code it lists, else null (unknown). */
export function contractCountry(country: string | null | undefined): CountryCode | null {
  return typeof country === 'string' && COUNTRIES.has(country) ? (country as CountryCode) : null;
}

/** `played_at` as Spotify sends it (with or without milliseconds, any offset), as an ISO instant in UTC with Z. */
export function normalisePlayedAt(playedAt: string): string {
  const ms = Date.parse(playedAt);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(playedAt) || Number.isNaN(ms)) {
    throw new RangeError(`played_at ${JSON.stringify(playedAt)} is not an ISO-8601 instant`);
  }
  return new Date(ms).toISOString();
}

/** Cuts a name to `max` UTF-16 units with a trailing marker, never splitting a surrogate pair. */
export function fitText(text: string, max: number = MAX_TEXT_LENGTH): string {
  if (text.length <= max) return text;
  let end = max - TRUNCATION_MARKER.length;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1; // a high surrogate whose pair would be cut off
  return text.slice(0, end) + TRUNCATION_MARKER;
}

export interface PlayContext {
  readonly userId: string;
  readonly country: string | null;
}

/**
 * The event of one play, or the reason it has none: a local file (`track.id` null) has no Spotify id to key
 * on and is left out, counted by the caller.
 */
export function playToEvent(
  item: PlayItem,
  context: PlayContext,
): { ok: true; event: SpotifyApiEvent } | { ok: false; reason: string } {
  const track = item.track;
  if (!track || typeof track.id !== 'string' || track.id === '') {
    return { ok: false, reason: 'the track has no Spotify id (a local file)' };
  }
  const timestamp = normalisePlayedAt(item.played_at);
  const artists = (track.artists ?? []).map((a) => a.name).filter((n) => typeof n === 'string' && n !== '');
  const album = track.album?.name;
  const event: SpotifyApiEvent = {
    event_id: naturalEventId(SPOTIFY_API_SOURCE, context.userId, timestamp, track.id),
    user_id: context.userId,
    song_id: track.id,
    artist_name: fitText(artists.join(', ')),
    song_name: fitText(track.name ?? ''),
    album_name: typeof album === 'string' && album !== '' ? fitText(album) : null,
    track_length_ms:
      Number.isSafeInteger(track.duration_ms) &&
      track.duration_ms >= 1 &&
      track.duration_ms <= MAX_DURATION_MS
        ? track.duration_ms
        : null,
    event_type: 'play',
    device_type: null,
    country: contractCountry(context.country),
    timestamp,
    duration_ms: null,
    source: SPOTIFY_API_SOURCE,
    schema_version: 2,
  };
  return { ok: true, event };
}
