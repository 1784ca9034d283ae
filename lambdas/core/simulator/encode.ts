/**
 * Fast serialization of simulated events. A record's line is the concatenation of a few pieces: a head
 * (`{"event_id":"<uuid>",`) and a tail (`<timestamp>","duration_ms":<n>,"source":"simulator","schema_version":2}`) written as bytes
 * into scratch buffers and read out as one flat string each, and the user, song and type/device/country
 * fragments JSON-encoded once per catalog. This keeps each line to five string pieces instead of dozens,
 * which is what made building lines cost more than JSON.stringify.
 */
import { SCHEMA_VERSION_V2 } from '../contract.ts';
import type { Prng } from './prng.ts';

const HEAD_PREFIX = '{"event_id":"';
const TAIL_MIDDLE = 'Z","duration_ms":';
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** The simulator's events are of contract version 2, source `simulator`. */
const TAIL_END_BYTES = Buffer.from(`,"source":"simulator","schema_version":${SCHEMA_VERSION_V2}}`, 'latin1');
const UUID_LENGTH = 36;
/** Where the UUID's version and variant digits sit in the head. */
const VERSION_AT = HEAD_PREFIX.length + 14;
const VARIANT_AT = HEAD_PREFIX.length + 19;
/** The timestamp up to the second (`2026-11-23T08:15:00.`), then three digits of milliseconds. */
const SECOND_PREFIX_LENGTH = 20;
const DURATION_AT = SECOND_PREFIX_LENGTH + 3 + TAIL_MIDDLE.length;

export class LineEncoder {
  private readonly headBytes = Buffer.alloc(HEAD_PREFIX.length + UUID_LENGTH + 2);
  private readonly tailBytes = Buffer.alloc(128);
  private second = Number.NaN;

  constructor() {
    this.tailBytes.write(TAIL_MIDDLE, SECOND_PREFIX_LENGTH + 3, 'latin1');
    this.headBytes.write(HEAD_PREFIX, 0, 'latin1');
    const dashes = HEAD_PREFIX.length;
    for (const at of [8, 13, 18, 23]) this.headBytes[dashes + at] = 0x2d;
    this.headBytes.write('",', HEAD_PREFIX.length + UUID_LENGTH, 'latin1');
  }

  /** `{"event_id":"<a version-4 UUID from 122 seeded random bits>",` */
  head(rng: Prng): string {
    const b = this.headBytes;
    let at = HEAD_PREFIX.length;
    for (let word = 0; word < 4; word++) {
      let x = rng.uint32();
      for (let nibble = 0; nibble < 8; nibble++) {
        if (at === HEAD_PREFIX.length + 8 || at === HEAD_PREFIX.length + 13) at++;
        if (at === HEAD_PREFIX.length + 18 || at === HEAD_PREFIX.length + 23) at++;
        b[at++] = HEX_DIGITS[x & 15]!;
        x >>>= 4;
      }
    }
    // The version digit is 4; two of the random bits it replaces make the variant digit 8, 9, a or b.
    const replaced = b[VERSION_AT]!;
    b[VERSION_AT] = 0x34;
    b[VARIANT_AT] = HEX_DIGITS[8 + (replaced & 3)]!;
    return b.toString('latin1', 0, b.length);
  }

  /** `2026-11-23T08:15:00.123Z","duration_ms":<n>,"source":"simulator","schema_version":2}`: the timestamp's value onwards. */
  tail(ms: number, durationMs: number): string {
    const b = this.tailBytes;
    const s = Math.floor(ms / 1000);
    if (s !== this.second) {
      // Events come in time order: the part up to the second is rewritten once per second of event time.
      this.second = s;
      b.write(new Date(s * 1000).toISOString().slice(0, SECOND_PREFIX_LENGTH), 0, 'latin1');
    }
    const frac = ms - s * 1000;
    b[SECOND_PREFIX_LENGTH] = 0x30 + Math.floor(frac / 100);
    b[SECOND_PREFIX_LENGTH + 1] = 0x30 + (Math.floor(frac / 10) % 10);
    b[SECOND_PREFIX_LENGTH + 2] = 0x30 + (frac % 10);
    let at = DURATION_AT + writeDigits(b, DURATION_AT, durationMs);
    for (let i = 0; i < TAIL_END_BYTES.length; i++) b[at++] = TAIL_END_BYTES[i]!;
    return b.toString('latin1', 0, at);
  }
}

/** Writes a non-negative integer in decimal; returns the number of digits. */
function writeDigits(b: Buffer, at: number, n: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  for (let i = digits - 1, x = n; i >= 0; i--, x = Math.floor(x / 10)) b[at + i] = 0x30 + (x % 10);
  return digits;
}
