/**
 * The listening-event contract: the one source of truth for what a valid event is.
 * The TypeScript type, the validator and the JSON Schema (docs/event.schema.json) all derive from `ListeningEventSchema`.
 */
import { z } from 'zod';

export const SCHEMA_VERSION = 1 as const;
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

export const ListeningEventSchema = z
  .object({
    event_id: z
      .uuid()
      .describe('Unique id of the event (UUID); duplicates are removed on this key in Silver.'),
    user_id: z.string().min(1).max(MAX_ID_LENGTH).describe('Listener id; the Kafka message key.'),
    song_id: z.string().min(1).max(MAX_ID_LENGTH),
    artist_name: z.string().min(1).max(MAX_TEXT_LENGTH),
    song_name: z.string().min(1).max(MAX_TEXT_LENGTH),
    event_type: z.enum(EVENT_TYPES),
    device_type: z.enum(DEVICE_TYPES),
    country: z
      .enum(COUNTRY_CODES, {
        error: (issue) =>
          `Invalid country ${JSON.stringify(issue.input)}: expected an ISO 3166-1 alpha-2 code such as "US" or "GB"`,
      })
      .describe('ISO 3166-1 alpha-2 country code of the listener.'),
    timestamp: z.iso
      .datetime({ offset: false })
      .describe('Event time, ISO-8601 in UTC with a trailing Z; decides the Bronze date=/hour= partition.'),
    duration_ms: z.int().min(0).max(MAX_DURATION_MS).describe('Milliseconds listened.'),
    schema_version: z.literal(SCHEMA_VERSION),
  })
  .strict()
  .describe('A listening event produced to the spotify-events topic.');

export type ListeningEvent = z.infer<typeof ListeningEventSchema>;
/** The contract's fields, in schema order (the order of a serialized event). */
export const EVENT_FIELDS = Object.keys(ListeningEventSchema.shape) as readonly (keyof ListeningEvent)[];
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
 * Validates a parsed record and returns every problem it has, not just the first.
 * An absent field is reported the same way whatever its type (zod would call a missing enum an "invalid option"):
 * code `invalid_type`, message `Missing required field "<name>"`.
 */
export function validateEvent(input: unknown): ValidationResult {
  const event = acceptedAsIs(input);
  if (event) return { ok: true, event };
  const result = ListeningEventSchema.safeParse(input);
  if (result.success) return { ok: true, event: result.data };
  const record = typeof input === 'object' && input !== null && !Array.isArray(input) ? input : undefined;
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
// Typed by the schema's keys: a field added to the contract does not compile until it has its check.
const patternOf = (schema: z.ZodType): RegExp => {
  const pattern = (schema as unknown as { _zod: { pattern?: RegExp } })._zod.pattern;
  if (!(pattern instanceof RegExp)) throw new Error('contract: a string format without a pattern');
  return pattern;
};
const UUID_PATTERN = patternOf(ListeningEventSchema.shape.event_id);
const TIMESTAMP_PATTERN = patternOf(ListeningEventSchema.shape.timestamp);
const text =
  (max: number) =>
  (v: unknown): boolean =>
    typeof v === 'string' && v.length >= 1 && v.length <= max;
const oneOf = (values: readonly string[]): ((v: unknown) => boolean) => {
  const set = new Set<unknown>(values);
  return (v) => set.has(v);
};
const FAST_CHECKS: Readonly<Record<keyof ListeningEvent, (v: unknown) => boolean>> = {
  event_id: (v) => typeof v === 'string' && UUID_PATTERN.test(v),
  user_id: text(MAX_ID_LENGTH),
  song_id: text(MAX_ID_LENGTH),
  artist_name: text(MAX_TEXT_LENGTH),
  song_name: text(MAX_TEXT_LENGTH),
  event_type: oneOf(EVENT_TYPES),
  device_type: oneOf(DEVICE_TYPES),
  country: oneOf(COUNTRY_CODES),
  timestamp: (v) => typeof v === 'string' && TIMESTAMP_PATTERN.test(v),
  duration_ms: (v) => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= MAX_DURATION_MS,
  schema_version: (v) => v === SCHEMA_VERSION,
};

/** validateEvent's fast path: the event in contract order when every field passes its check and there is no other field; else undefined (zod decides). */
export function acceptedAsIs(input: unknown): ListeningEvent | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return undefined;
  const r = input as Record<string, unknown>;
  let fields = 0;
  // for...in also sees inherited enumerable keys, which zod's strict object refuses: they leave the fast path.
  for (const key in r) {
    if (!Object.hasOwn(r, key) || !Object.hasOwn(FAST_CHECKS, key)) return undefined;
    if (!FAST_CHECKS[key as keyof ListeningEvent](r[key])) return undefined;
    fields += 1;
  }
  if (fields !== EVENT_FIELDS.length) return undefined;
  // In schema order, as zod's output is: Bronze lines serialize the event as it comes back. A literal is
  // faster than copying in a loop; `satisfies` makes a field added to the contract a compile error here.
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
  } satisfies Record<keyof ListeningEvent, unknown>;
  return event as ListeningEvent;
}

/** The JSON Schema (draft 2020-12) of the contract, as checked into docs/event.schema.json. */
export function eventJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ListeningEventSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;
}
