/**
 * Event ids derived from a source's natural key, so the same play read twice (a re-poll of recently-played,
 * a re-import of a streaming-history export) gets the same `event_id` and Silver's dedupe on it makes both
 * exactly-once. The id is a name-based UUID, version 5 (RFC 9562, section 5.5: SHA-1 of a namespace and a
 * name), in this project's own namespace; the name joins the key's parts with a separator no part holds.
 */
import { createHash } from 'node:crypto';

/** This project's UUID namespace for event ids (a fixed random UUID; changing it changes every derived id). */
export const EVENT_ID_NAMESPACE = '6f1d3c52-8a4e-4b7f-9c21-5e0a7d93b8f4';

const NAMESPACE_BYTES = Buffer.from(EVENT_ID_NAMESPACE.replaceAll('-', ''), 'hex');
const SEPARATOR = '\u001f'; // the ASCII unit separator

/**
 * The event id of a natural key, e.g. `naturalEventId('spotify_api', userId, playedAt, trackId)`. Every part
 * must be non-empty and free of U+001F, so distinct keys never join to the same name.
 */
export function naturalEventId(...parts: readonly string[]): string {
  if (parts.length === 0) throw new RangeError('naturalEventId: a natural key needs at least one part');
  for (const part of parts) {
    if (typeof part !== 'string' || part.length === 0 || part.includes(SEPARATOR)) {
      throw new RangeError(`naturalEventId: key part ${JSON.stringify(part)} is empty or holds U+001F`);
    }
  }
  return uuidV5(NAMESPACE_BYTES, parts.join(SEPARATOR));
}

/** The version-5 UUID of a 16-byte namespace and a UTF-8 name (RFC 9562, section 5.5). */
export function uuidV5(namespace: Uint8Array, name: string): string {
  const b = createHash('sha1').update(namespace).update(name, 'utf8').digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50; // version 5
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
