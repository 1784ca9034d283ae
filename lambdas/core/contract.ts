/**
 * The listening-event contract: the one source of truth for what a valid event is.
 * The TypeScript type, the validator and the JSON Schema (docs/event.schema.json) all derive from `ListeningEventSchema`.
 */
import { z } from 'zod';

/** The contract's versions. Version 1 is the simulator's original event; version 2 adds the source, the album and the
 * track's length, and lets a source say what it cannot know (null). Both stay valid. */
export const SCHEMA_VERSION_V1 = 1 as const;
export const SCHEMA_VERSION_V2 = 2 as const;
export const SCHEMA_VERSIONS = [SCHEMA_VERSION_V1, SCHEMA_VERSION_V2] as const;
/** The version producers emit. */
export const SCHEMA_VERSION = SCHEMA_VERSION_V2;
/** Where a version-2 event comes from: the simulator, the Web API's recently-played, a streaming-history export. */
export const EVENT_SOURCES = ['simulator', 'spotify_api', 'spotify_history'] as const;
export const EVENT_TYPES = ['play', 'pause', 'skip', 'add_to_playlist'] as const;
export const DEVICE_TYPES = ['mobile', 'desktop', 'web'] as const;
/** Largest accepted length of a free-text field (names); longer values are "oversize". */
export const MAX_TEXT_LENGTH = 256;
/** Largest accepted id length. */
export const MAX_ID_LENGTH = 64;
/** Largest accepted `duration_ms`: one day. */
export const MAX_DURATION_MS = 86_400_000;
/** Largest accepted encoded event, in bytes; larger Kafka values are quarantined before parsing. */
export const MAX_EVENT_BYTES = 16 * 1024;

/** ISO 3166-1 alpha-2 codes (officially assigned). */
// prettier-ignore
export const COUNTRY_CODES = [
  'AD', 'AE', 'AF', 'AG', 'AI', 'AL', 'AM', 'AO', 'AQ', 'AR', 'AS', 'AT', 'AU', 'AW', 'AX', 'AZ',
  'BA', 'BB', 'BD', 'BE', 'BF', 'BG', 'BH', 'BI', 'BJ', 'BL', 'BM', 'BN', 'BO', 'BQ', 'BR', 'BS', 'BT', 'BV', 'BW', 'BY', 'BZ',
  'CA', 'CC', 'CD', 'CF', 'CG', 'CH', 'CI', 'CK', 'CL', 'CM', 'CN', 'CO', 'CR', 'CU', 'CV', 'CW', 'CX', 'CY', 'CZ',
  'DE', 'DJ', 'DK', 'DM', 'DO', 'DZ', 'EC', 'EE', 'EG', 'EH', 'ER', 'ES', 'ET', 'FI', 'FJ', 'FK', 'FM', 'FO', 'FR',
  'GA', 'GB', 'GD', 'GE', 'GF', 'GG', 'GH', 'GI', 'GL', 'GM', 'GN', 'GP', 'GQ', 'GR', 'GS', 'GT', 'GU', 'GW', 'GY',
  'HK', 'HM', 'HN', 'HR', 'HT', 'HU', 'ID', 'IE', 'IL', 'IM', 'IN', 'IO', 'IQ', 'IR', 'IS', 'IT', 'JE', 'JM', 'JO', 'JP',
  'KE', 'KG', 'KH', 'KI', 'KM', 'KN', 'KP', 'KR', 'KW', 'KY', 'KZ', 'LA', 'LB', 'LC', 'LI', 'LK', 'LR', 'LS', 'LT', 'LU', 'LV', 'LY',
  'MA', 'MC', 'MD', 'ME', 'MF', 'MG', 'MH', 'MK', 'ML', 'MM', 'MN', 'MO', 'MP', 'MQ', 'MR', 'MS', 'MT', 'MU', 'MV', 'MW', 'MX', 'MY', 'MZ',
  'NA', 'NC', 'NE', 'NF', 'NG', 'NI', 'NL', 'NO', 'NP', 'NR', 'NU', 'NZ', 'OM',
  'PA', 'PE', 'PF', 'PG', 'PH', 'PK', 'PL', 'PM', 'PN', 'PR', 'PS', 'PT', 'PW', 'PY', 'QA', 'RE', 'RO', 'RS', 'RU', 'RW',
  'SA', 'SB', 'SC', 'SD', 'SE', 'SG', 'SH', 'SI', 'SJ', 'SK', 'SL', 'SM', 'SN', 'SO', 'SR', 'SS', 'ST', 'SV', 'SX', 'SY', 'SZ',
  'TC', 'TD', 'TF', 'TG', 'TH', 'TJ', 'TK', 'TL', 'TM', 'TN', 'TO', 'TR', 'TT', 'TV', 'TW', 'TZ',
  'UA', 'UG', 'UM', 'US', 'UY', 'UZ', 'VA', 'VC', 'VE', 'VG', 'VI', 'VN', 'VU', 'WF', 'WS', 'YE', 'YT', 'ZA', 'ZM', 'ZW',
] as const;

const eventId = z
  .uuid()
  .describe('Unique id of the event (UUID); duplicates are removed on this key in Silver.');
const userId = z.string().min(1).max(MAX_ID_LENGTH).describe('Listener id; the Kafka message key.');
const songId = z.string().min(1).max(MAX_ID_LENGTH);
const name = z.string().min(1).max(MAX_TEXT_LENGTH);
const eventType = z.enum(EVENT_TYPES);
const deviceType = z.enum(DEVICE_TYPES);
const country = z.enum(COUNTRY_CODES, {
  error: (issue) =>
    `Invalid country ${JSON.stringify(issue.input)}: expected an ISO 3166-1 alpha-2 code such as "US" or "GB"`,
});
const timestamp = z.iso
  .datetime({ offset: false })
  .describe('Event time, ISO-8601 in UTC with a trailing Z; decides the Bronze date=/hour= partition.');
const durationMs = z.int().min(0).max(MAX_DURATION_MS);
const schemaVersion = <V extends number>(version: V) =>
  z.literal(version, {
    error: (issue) =>
      `Invalid schema_version ${JSON.stringify(issue.input)}: expected ${SCHEMA_VERSIONS.join(' or ')}`,
  });

/** Version 1: every field known. */
export const ListeningEventV1Schema = z
  .object({
    event_id: eventId,
    user_id: userId,
    song_id: songId,
    artist_name: name,
    song_name: name,
    event_type: eventType,
    device_type: deviceType,
    country: country.describe('ISO 3166-1 alpha-2 country code of the listener.'),
    timestamp,
    duration_ms: durationMs.describe('Milliseconds listened.'),
    schema_version: schemaVersion(SCHEMA_VERSION_V1),
  })
  .strict()
  .describe('A listening event of contract version 1.');

/** Version 2: the source, the album and the track's length; null where the source cannot know the value. */
export const ListeningEventV2Schema = z
  .object({
    event_id: eventId,
    user_id: userId,
    song_id: songId.describe('Track id; for the Spotify sources the Spotify track id.'),
    artist_name: name,
    song_name: name,
    album_name: name.nullable().describe('Album name; null when the source does not know it.'),
    track_length_ms: z
      .int()
      .min(1)
      .max(MAX_DURATION_MS)
      .nullable()
      .describe("The track's full length in ms; null when the source does not know it."),
    event_type: eventType,
    device_type: deviceType.nullable().describe('null when the source does not know the device.'),
    country: country
      .nullable()
      .describe('ISO 3166-1 alpha-2 country code of the listener; null when unknown.'),
    timestamp,
    duration_ms: durationMs
      .nullable()
      .describe('Milliseconds listened; null when the source does not know it (the Web API).'),
    source: z.enum(EVENT_SOURCES).describe('Where the event comes from.'),
    schema_version: schemaVersion(SCHEMA_VERSION_V2),
  })
  .strict()
  .describe('A listening event of contract version 2.');

/** Either version, told apart by `schema_version`. */
export const ListeningEventSchema = z
  .discriminatedUnion('schema_version', [ListeningEventV1Schema, ListeningEventV2Schema])
  .describe('A listening event produced to the spotify-events topic (contract version 1 or 2).');

export type ListeningEventV1 = z.infer<typeof ListeningEventV1Schema>;
export type ListeningEventV2 = z.infer<typeof ListeningEventV2Schema>;
export type ListeningEvent = ListeningEventV1 | ListeningEventV2;
export type SchemaVersion = (typeof SCHEMA_VERSIONS)[number];
export type EventSource = (typeof EVENT_SOURCES)[number];
/** Each version's fields, in schema order (the order of a serialized event). */
export const EVENT_FIELDS_V1 = Object.keys(
  ListeningEventV1Schema.shape,
) as readonly (keyof ListeningEventV1)[];
export const EVENT_FIELDS_V2 = Object.keys(
  ListeningEventV2Schema.shape,
) as readonly (keyof ListeningEventV2)[];
/** Fields version 2 has and version 1 has not. */
export const V2_ONLY_FIELDS = EVENT_FIELDS_V2.filter(
  (f) => !(EVENT_FIELDS_V1 as readonly string[]).includes(f),
) as readonly Exclude<keyof ListeningEventV2, keyof ListeningEventV1>[];
export type EventType = (typeof EVENT_TYPES)[number];
export type DeviceType = (typeof DEVICE_TYPES)[number];
export type CountryCode = (typeof COUNTRY_CODES)[number];

/** One thing wrong with a record. `path` is the field ('' for the record itself). */
export interface Problem {
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

export type ValidationResult =
  | { readonly ok: true; readonly event: ListeningEvent }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/**
 * The version a record is judged by: its `schema_version` when that is 1 or 2; otherwise (absent or wrong)
 * version 2 when it has a field only version 2 has, else version 1. So a version-2 event without its
 * `schema_version` is reported for that alone, not for every version-2 field as well.
 */
function schemaFor(
  record: object | undefined,
): typeof ListeningEventV1Schema | typeof ListeningEventV2Schema {
  if (!record) return ListeningEventV1Schema;
  const version = (record as { schema_version?: unknown }).schema_version;
  if (version === SCHEMA_VERSION_V2) return ListeningEventV2Schema;
  if (version === SCHEMA_VERSION_V1) return ListeningEventV1Schema;
  return V2_ONLY_FIELDS.some((f) => Object.hasOwn(record, f))
    ? ListeningEventV2Schema
    : ListeningEventV1Schema;
}

/**
 * Validates a parsed record of either version and returns every problem it has, not just the first.
 * An absent field is reported the same way whatever its type (zod would call a missing enum an "invalid option"):
 * code `invalid_type`, message `Missing required field "<name>"`.
 */
export function validateEvent(input: unknown): ValidationResult {
  const event = acceptedAsIs(input);
  if (event) return { ok: true, event };
  const record = typeof input === 'object' && input !== null && !Array.isArray(input) ? input : undefined;
  const result = schemaFor(record).safeParse(input);
  if (result.success) return { ok: true, event: result.data };
  return {
    ok: false,
    problems: result.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.');
      if (record && issue.path.length === 1 && !Object.hasOwn(record, path)) {
        return { path, code: 'invalid_type', message: `Missing required field "${path}"` };
      }
      return { path, code: issue.code, message: issue.message };
    }),
  };
}

// The fast path of validateEvent. zod builds its result through a general machinery that costs about as
// much as parsing the JSON; the consumer validates every record, and nearly all are valid. So a record that
// passes these checks (derived from the schema: its formats' own patterns, the same limits and options) is
// accepted without zod; anything else, valid or not, goes through zod, which alone reports problems. The
// checks may refuse what zod accepts, never the reverse (test/contract checks both give the same results).
// Typed by the schemas' keys: a field added to the contract does not compile until it has its check.
const patternOf = (schema: z.ZodType): RegExp => {
  const pattern = (schema as unknown as { _zod: { pattern?: RegExp } })._zod.pattern;
  if (!(pattern instanceof RegExp)) throw new Error('contract: a string format without a pattern');
  return pattern;
};
const UUID_PATTERN = patternOf(eventId);
const TIMESTAMP_PATTERN = patternOf(timestamp);
type Check = (v: unknown) => boolean;
const text =
  (max: number): Check =>
  (v) =>
    typeof v === 'string' && v.length >= 1 && v.length <= max;
const oneOf = (values: readonly string[]): Check => {
  const set = new Set<unknown>(values);
  return (v) => set.has(v);
};
const integer =
  (min: number, max: number): Check =>
  (v) =>
    Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
const orNull =
  (check: Check): Check =>
  (v) =>
    v === null || check(v);
const COMMON_CHECKS = {
  event_id: (v) => typeof v === 'string' && UUID_PATTERN.test(v),
  user_id: text(MAX_ID_LENGTH),
  song_id: text(MAX_ID_LENGTH),
  artist_name: text(MAX_TEXT_LENGTH),
  song_name: text(MAX_TEXT_LENGTH),
  event_type: oneOf(EVENT_TYPES),
  timestamp: (v) => typeof v === 'string' && TIMESTAMP_PATTERN.test(v),
} satisfies Record<string, Check>;
const FAST_CHECKS_V1: Readonly<Record<keyof ListeningEventV1, Check>> = {
  ...COMMON_CHECKS,
  device_type: oneOf(DEVICE_TYPES),
  country: oneOf(COUNTRY_CODES),
  duration_ms: integer(0, MAX_DURATION_MS),
  schema_version: (v) => v === SCHEMA_VERSION_V1,
};
const FAST_CHECKS_V2: Readonly<Record<keyof ListeningEventV2, Check>> = {
  ...COMMON_CHECKS,
  album_name: orNull(text(MAX_TEXT_LENGTH)),
  track_length_ms: orNull(integer(1, MAX_DURATION_MS)),
  device_type: orNull(oneOf(DEVICE_TYPES)),
  country: orNull(oneOf(COUNTRY_CODES)),
  duration_ms: orNull(integer(0, MAX_DURATION_MS)),
  source: oneOf(EVENT_SOURCES),
  schema_version: (v) => v === SCHEMA_VERSION_V2,
};

/** validateEvent's fast path: the event in contract order when every field passes its version's check and there is no other field; else undefined (zod decides). */
export function acceptedAsIs(input: unknown): ListeningEvent | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return undefined;
  const r = input as Record<string, unknown>;
  // An own schema_version only: an inherited one is left to zod, like every inherited key.
  const version = Object.hasOwn(r, 'schema_version') ? r.schema_version : undefined;
  const checks: Readonly<Record<string, Check>> | undefined =
    version === SCHEMA_VERSION_V2
      ? FAST_CHECKS_V2
      : version === SCHEMA_VERSION_V1
        ? FAST_CHECKS_V1
        : undefined;
  if (!checks) return undefined;
  let fields = 0;
  // for...in also sees inherited enumerable keys, which zod's strict object refuses: they leave the fast path.
  for (const key in r) {
    if (!Object.hasOwn(r, key) || !Object.hasOwn(checks, key)) return undefined;
    if (!checks[key]!(r[key])) return undefined;
    fields += 1;
  }
  // In schema order, as zod's output is: Bronze lines serialize the event as it comes back. A literal is
  // faster than copying in a loop; `satisfies` makes a field added to the contract a compile error here.
  if (version === SCHEMA_VERSION_V2) {
    if (fields !== EVENT_FIELDS_V2.length) return undefined;
    const event = {
      event_id: r.event_id,
      user_id: r.user_id,
      song_id: r.song_id,
      artist_name: r.artist_name,
      song_name: r.song_name,
      album_name: r.album_name,
      track_length_ms: r.track_length_ms,
      event_type: r.event_type,
      device_type: r.device_type,
      country: r.country,
      timestamp: r.timestamp,
      duration_ms: r.duration_ms,
      source: r.source,
      schema_version: r.schema_version,
    } satisfies Record<keyof ListeningEventV2, unknown>;
    return event as ListeningEventV2;
  }
  if (fields !== EVENT_FIELDS_V1.length) return undefined;
  const event = {
    event_id: r.event_id,
    user_id: r.user_id,
    song_id: r.song_id,
    artist_name: r.artist_name,
    song_name: r.song_name,
    event_type: r.event_type,
    device_type: r.device_type,
    country: r.country,
    timestamp: r.timestamp,
    duration_ms: r.duration_ms,
    schema_version: r.schema_version,
  } satisfies Record<keyof ListeningEventV1, unknown>;
  return event as ListeningEventV1;
}

/** The JSON Schema (draft 2020-12) of the contract, as checked into docs/event.schema.json: oneOf the two versions. */
export function eventJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ListeningEventSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;
}
