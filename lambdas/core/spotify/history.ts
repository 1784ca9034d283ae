/**
 * The Extended Streaming History export (Spotify account privacy page, "Extended streaming history"): a zip of
 * `Streaming_History_Audio_*.json` files, each a JSON array of entries of about 12 MB. This module maps one
 * entry to a contract-version-2 listening event, or says why it is left out (an episode, an audiobook, no track)
 * or rejected (a bad field), and reads one export file as a stream (stream-json), holding only that file's
 * events: a file is the unit of import, produced only once it has been read to its end, so a file that fails
 * mid-way produces nothing of itself. Memory grows with the largest file, never with the export.
 *
 * Entry fields as Spotify's data key describes them: `ts` is when the stream ended (UTC), `ms_played` how long it
 * played, `platform` e.g. "Android OS 9 API 28 (samsung, SM-G960F)", "iOS 14.4 (iPhone12,1)",
 * "Windows 10 (10.0.19041; x64)", "OS X 10.15.7 [x86 8]", "WebPlayer (websocket RFC6455)", or older short
 * forms ("android", "ios", "windows", "osx", "linux", "web_player"); `conn_country` is "ZZ" when unknown.
 * Exports made since 2023 leave out `username`: then the user id comes from the importer (`--user`, or the
 * `imports/<user>/` folder in AWS).
 */
import type { Readable } from 'node:stream';
import { streamArray } from 'stream-json/streamers/stream-array.js';
import { COUNTRY_CODES, MAX_DURATION_MS, MAX_ID_LENGTH, MAX_TEXT_LENGTH } from '../contract.ts';
import { errorMessage } from '../errors.ts';
import { naturalEventId } from '../event-id.ts';

export const HISTORY_SOURCE = 'spotify_history';
export const HISTORY_SCHEMA_VERSION = 2;

/** A version-2 listening event as the import produces it (fields in contract order). */
export interface HistoryEvent {
  readonly event_id: string;
  readonly user_id: string;
  readonly song_id: string;
  readonly artist_name: string;
  readonly song_name: string;
  readonly album_name: string | null;
  /** The export does not hold the track's length. */
  readonly track_length_ms: null;
  readonly event_type: 'play' | 'skip';
  readonly device_type: 'mobile' | 'desktop' | 'web' | null;
  readonly country: string | null;
  readonly timestamp: string;
  readonly duration_ms: number;
  readonly source: typeof HISTORY_SOURCE;
  readonly schema_version: typeof HISTORY_SCHEMA_VERSION;
}

export type LeftOutReason = 'episode' | 'audiobook' | 'no_track';

export type EntryOutcome =
  | { readonly kind: 'event'; readonly event: HistoryEvent }
  | { readonly kind: 'left_out'; readonly reason: LeftOutReason }
  | { readonly kind: 'rejected'; readonly problems: readonly string[] };

/** The keys of an export entry; an element with none of them is not an export entry at all. */
const ENTRY_KEYS = [
  'ts',
  'username',
  'platform',
  'ms_played',
  'conn_country',
  'master_metadata_track_name',
  'spotify_track_uri',
  'spotify_episode_uri',
  'reason_end',
] as const;

/** A Spotify track URI: `spotify:track:` and a base-62 Spotify ID of 22 characters (Web API docs, "Spotify URIs and IDs"). */
const TRACK_URI = /^spotify:track:([0-9A-Za-z]{22})$/;
/** ISO 8601 date-time in UTC or with an offset, as `ts` is written ("2014-07-27T20:34:47Z"). */
const TS_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const COUNTRIES = new Set<string>(COUNTRY_CODES);

/**
 * The device type of a `platform` value, by its leading word (case-insensitive): Android and iOS are mobile;
 * Windows, OS X/macOS and Linux desktop; the web player web. Anything else (cast devices, consoles, cars,
 * speakers, "Partner ..." integrations) is unknown, null: never guessed.
 */
export function deviceTypeOf(platform: unknown): HistoryEvent['device_type'] {
  if (typeof platform !== 'string') return null;
  const p = platform.trim().toLowerCase();
  if (/^(android|ios)\b/.test(p)) return 'mobile';
  if (/^(windows|os x|osx|macos|mac os|linux)\b/.test(p)) return 'desktop';
  if (/^(web_player|webplayer|web player)\b/.test(p)) return 'web';
  return null;
}

/** Whether an array element looks like an export entry (an object with at least one of the export's keys). */
export function isExportEntry(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return ENTRY_KEYS.some((k) => Object.hasOwn(value, k));
}

const present = (v: unknown): boolean => v !== null && v !== undefined && v !== '';

function text(
  entry: Record<string, unknown>,
  field: string,
  max: number,
  problems: string[],
  required: boolean,
): string | null {
  const v = entry[field];
  if (!present(v)) {
    if (required) problems.push(`${field} is missing`);
    return null;
  }
  if (typeof v !== 'string') problems.push(`${field} is not a string (${JSON.stringify(v)})`);
  else if (v.length > max) problems.push(`${field} is longer than ${max} characters`);
  else return v;
  return null;
}

/**
 * One entry's outcome. `fallbackUser` is the user id for entries without `username`.
 *
 * The event id is naturalEventId('spotify_history', user, ts, track id, ms_played). `ts` has a resolution of a
 * second, and one account can end two streams of the same track in the same second (two devices, an offline
 * device syncing); `ms_played` keeps those apart. The entry's position is not in the key: a new export request
 * splits the files differently, and a re-import of either must give the same ids.
 */
export function mapEntry(entry: Record<string, unknown>, fallbackUser?: string): EntryOutcome {
  if (present(entry.spotify_episode_uri) || present(entry.episode_name)) {
    return { kind: 'left_out', reason: 'episode' };
  }
  if (
    present(entry.audiobook_uri) ||
    present(entry.audiobook_title) ||
    present(entry.audiobook_chapter_uri)
  ) {
    return { kind: 'left_out', reason: 'audiobook' };
  }
  if (!present(entry.spotify_track_uri)) return { kind: 'left_out', reason: 'no_track' };

  const problems: string[] = [];
  const uri = entry.spotify_track_uri;
  const trackId = typeof uri === 'string' ? TRACK_URI.exec(uri)?.[1] : undefined;
  if (!trackId)
    problems.push(`spotify_track_uri ${JSON.stringify(uri)} is not spotify:track:<22-character id>`);

  let user = text(entry, 'username', MAX_ID_LENGTH, [], false);
  if (!present(entry.username)) user = fallbackUser ?? null;
  else if (user === null) problems.push(`username ${JSON.stringify(entry.username)} is not a user id`);
  if (!present(entry.username) && !fallbackUser) {
    problems.push(
      'username is missing (exports since 2023 leave it out): give the user id (mds spotify import --user, or upload under imports/<user>/)',
    );
  }

  let timestamp: string | null = null;
  const ts = entry.ts;
  if (typeof ts !== 'string' || !TS_PATTERN.test(ts) || Number.isNaN(Date.parse(ts))) {
    problems.push(`ts ${JSON.stringify(ts)} is not an ISO 8601 time such as "2024-05-01T18:04:11Z"`);
  } else {
    timestamp = new Date(ts).toISOString();
  }

  const ms = entry.ms_played;
  if (!Number.isSafeInteger(ms) || (ms as number) < 0 || (ms as number) > MAX_DURATION_MS) {
    problems.push(
      `ms_played ${JSON.stringify(ms)} is not a whole number of milliseconds from 0 to ${MAX_DURATION_MS}`,
    );
  }
  const song = text(entry, 'master_metadata_track_name', MAX_TEXT_LENGTH, problems, true);
  const artist = text(entry, 'master_metadata_album_artist_name', MAX_TEXT_LENGTH, problems, true);
  const album = text(entry, 'master_metadata_album_album_name', MAX_TEXT_LENGTH, problems, false);
  const skipped = entry.skipped;
  if (skipped !== undefined && skipped !== null && typeof skipped !== 'boolean') {
    problems.push(`skipped ${JSON.stringify(skipped)} is not true, false or null`);
  }
  if (problems.length > 0 || !trackId || !user || !timestamp || !song || !artist) {
    return { kind: 'rejected', problems };
  }
  const country =
    typeof entry.conn_country === 'string' && COUNTRIES.has(entry.conn_country) ? entry.conn_country : null;
  return {
    kind: 'event',
    event: {
      event_id: naturalEventId(HISTORY_SOURCE, user, timestamp, trackId, String(ms)),
      user_id: user,
      song_id: trackId,
      artist_name: artist,
      song_name: song,
      album_name: album,
      track_length_ms: null,
      event_type: skipped === true ? 'skip' : 'play',
      device_type: deviceTypeOf(entry.platform),
      country,
      timestamp,
      duration_ms: ms as number,
      source: HISTORY_SOURCE,
      schema_version: HISTORY_SCHEMA_VERSION,
    },
  };
}

/** Counts of one file or of a whole import: entries = imported + left out + rejected. */
export interface HistoryCounts {
  entries: number;
  imported: number;
  leftOut: number;
  episodes: number;
  audiobooks: number;
  noTrack: number;
  rejected: number;
}

export const emptyCounts = (): HistoryCounts => ({
  entries: 0,
  imported: 0,
  leftOut: 0,
  episodes: 0,
  audiobooks: 0,
  noTrack: 0,
  rejected: 0,
});

export function addCounts(into: HistoryCounts, c: HistoryCounts): void {
  for (const k of Object.keys(into) as (keyof HistoryCounts)[]) into[k] += c[k];
}

/** A rejected entry: the file, its index in the file's array (from 0), and every problem. */
export interface Rejection {
  readonly file: string;
  readonly index: number;
  readonly problems: readonly string[];
}

/** Rejections kept per file for the report; the rest are counted. */
export const MAX_REJECTIONS_KEPT = 20;

export interface FileRead {
  readonly file: string;
  readonly counts: HistoryCounts;
  /** The file's events, to produce; empty when the file was refused. */
  readonly events: HistoryEvent[];
  /** The first MAX_REJECTIONS_KEPT rejections (counts.rejected has them all). */
  readonly rejections: Rejection[];
  /** Why the whole file was refused (nothing of it is produced), or undefined. */
  readonly refused?: string;
}

export interface ReadOptions {
  /** The user id of entries without `username`. */
  readonly user?: string;
}

/**
 * Reads one export file (a JSON array of entries) as a stream. A file that is not a JSON array, holds an element
 * that is not an export entry, or ends mid-way is refused: its result has no events and its counts are zero.
 */
export async function readExportFile(
  file: string,
  input: Readable,
  options: ReadOptions = {},
): Promise<FileRead> {
  const counts = emptyCounts();
  const events: HistoryEvent[] = [];
  const rejections: Rejection[] = [];
  const refuse = (why: string): FileRead => ({
    file,
    counts: emptyCounts(),
    events: [],
    rejections: [],
    refused: why,
  });
  // Packed values only, no per-chunk string and number tokens: the array streamer assembles from the packed
  // ones, so the chunk tokens are work for nothing (stream-json's parser option streamValues).
  const parser = streamArray.withParserAsStream({ streamValues: false });
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser);
  try {
    for await (const item of parser as AsyncIterable<{ key: number; value: unknown }>) {
      const { key: index, value } = item;
      if (!isExportEntry(value)) {
        input.unpipe(parser);
        input.destroy();
        parser.destroy();
        const oldFormat =
          typeof value === 'object' &&
          value !== null &&
          Object.hasOwn(value, 'endTime') &&
          Object.hasOwn(value, 'msPlayed');
        return refuse(
          `${file}: entry ${index} is not a streaming-history entry` +
            (oldFormat
              ? ' (this is the account data\'s StreamingHistory_music file: request "Extended streaming history" instead)'
              : ' (expected objects with ts, ms_played, spotify_track_uri, ...)'),
        );
      }
      counts.entries += 1;
      const outcome = mapEntry(value, options.user);
      if (outcome.kind === 'event') {
        counts.imported += 1;
        events.push(outcome.event);
      } else if (outcome.kind === 'left_out') {
        counts.leftOut += 1;
        if (outcome.reason === 'episode') counts.episodes += 1;
        else if (outcome.reason === 'audiobook') counts.audiobooks += 1;
        else counts.noTrack += 1;
      } else {
        counts.rejected += 1;
        if (rejections.length < MAX_REJECTIONS_KEPT)
          rejections.push({ file, index, problems: outcome.problems });
      }
    }
  } catch (err) {
    input.destroy();
    return refuse(`${file}: not a JSON array of streaming-history entries (${errorMessage(err)})`);
  }
  return { file, counts, events, rejections };
}
