/**
 * Invalid records, as later stages must meet them: each breaks the contract in one known way, so tests of the
 * consumer can check the quarantine reason. `oversize` stays under MAX_EVENT_BYTES, so it is the field that is too
 * long, not the whole record.
 */
import {
  EVENT_FIELDS_V2 as EVENT_FIELDS,
  MAX_ID_LENGTH,
  MAX_TEXT_LENGTH,
  type ListeningEventV2 as ListeningEvent,
} from '../contract.ts';
import type { Prng } from './prng.ts';

export const INVALID_KINDS = [
  'malformed_json',
  'missing_field',
  'wrong_type',
  'unknown_enum',
  'oversize',
] as const;
export type InvalidKind = (typeof INVALID_KINDS)[number];

export interface InvalidRecord {
  readonly key: string | null;
  readonly value: string;
  /** The field that breaks the contract (null for malformed JSON, which has no fields). */
  readonly field: string | null;
}

/**
 * Values a careless producer might send instead of the right type. Only fields whose schema checks the type first:
 * a wrongly typed enum or literal is reported as an unknown value, which is `unknown_enum`'s reason.
 */
const WRONG_TYPES: readonly { field: keyof ListeningEvent; value: (e: ListeningEvent) => unknown }[] = [
  { field: 'duration_ms', value: (e) => String(e.duration_ms) },
  { field: 'duration_ms', value: (e) => (e.duration_ms ?? 0) + 0.5 },
  { field: 'track_length_ms', value: (e) => String(e.track_length_ms) },
  { field: 'timestamp', value: (e) => Date.parse(e.timestamp) },
  { field: 'user_id', value: (e) => Number(e.user_id.replace(/\D/g, '')) },
  { field: 'song_id', value: (e) => e.song_id.length },
  { field: 'artist_name', value: () => null },
  { field: 'song_name', value: (e) => [e.song_name] },
];

/** Plausible values outside the enums: other players' event names, other devices, non-ISO country codes. */
const UNKNOWN_ENUMS: readonly { field: keyof ListeningEvent; values: readonly string[] }[] = [
  { field: 'event_type', values: ['seek', 'like', 'PLAY', 'stop', 'resume'] },
  { field: 'device_type', values: ['tv', 'smart_speaker', 'car', 'Mobile', 'console'] },
  { field: 'country', values: ['UK', 'XX', 'usa', 'EU', 'ZZ'] },
  { field: 'source', values: ['Simulator', 'spotify', 'api', 'import'] },
];

const OVERSIZE_FIELDS: readonly { field: keyof ListeningEvent; limit: number }[] = [
  { field: 'artist_name', limit: MAX_TEXT_LENGTH },
  { field: 'song_name', limit: MAX_TEXT_LENGTH },
  { field: 'user_id', limit: MAX_ID_LENGTH },
  { field: 'song_id', limit: MAX_ID_LENGTH },
];

/** Longest oversize value: well past the limit, while the whole line stays far below 16 KiB. */
const OVERSIZE_MAX = 4096;

/** Turns a valid event into a record that fails the contract for the given reason. */
export function makeInvalid(rng: Prng, event: ListeningEvent, kind: InvalidKind): InvalidRecord {
  const record: Record<string, unknown> = { ...event };
  switch (kind) {
    case 'malformed_json': {
      const line = JSON.stringify(event);
      const variant = rng.int(4);
      // Every variant leaves the object unclosed or the syntax broken, so JSON.parse must fail.
      if (variant === 0)
        return { key: event.user_id, value: line.slice(0, 1 + rng.int(line.length - 1)), field: null };
      if (variant === 1) return { key: event.user_id, value: line.replace(/"/g, "'"), field: null };
      if (variant === 2) return { key: event.user_id, value: line.slice(0, -1) + ',}', field: null };
      return {
        key: null,
        value: `${event.event_type} ${event.user_id} ${event.song_id} ${event.timestamp}`,
        field: null,
      };
    }
    case 'missing_field': {
      const field = rng.pick(EVENT_FIELDS);
      delete record[field];
      // Without a user_id there is no Kafka key either.
      return { key: field === 'user_id' ? null : event.user_id, value: JSON.stringify(record), field };
    }
    case 'wrong_type': {
      const wrong = rng.pick(WRONG_TYPES);
      record[wrong.field] = wrong.value(event);
      return { key: event.user_id, value: JSON.stringify(record), field: wrong.field };
    }
    case 'unknown_enum': {
      const bad = rng.pick(UNKNOWN_ENUMS);
      record[bad.field] = rng.pick(bad.values);
      return { key: event.user_id, value: JSON.stringify(record), field: bad.field };
    }
    case 'oversize': {
      const big = rng.pick(OVERSIZE_FIELDS);
      const length = rng.between(big.limit + 1, OVERSIZE_MAX);
      const original = String(event[big.field]);
      record[big.field] = original.repeat(Math.ceil(length / original.length)).slice(0, length);
      const key = big.field === 'user_id' ? (record.user_id as string) : event.user_id;
      return { key, value: JSON.stringify(record), field: big.field };
    }
  }
}
