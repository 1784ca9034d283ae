import { readFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COUNTRY_CODES,
  DEVICE_TYPES,
  EVENT_SOURCES,
  EVENT_TYPES,
  MAX_DURATION_MS,
  MAX_TEXT_LENGTH,
  ListeningEventSchema,
  SCHEMA_VERSION_V1,
  SCHEMA_VERSION_V2,
  acceptedAsIs,
  eventJsonSchema,
  validateEvent,
  type ListeningEvent,
  type ListeningEventV1,
  type ListeningEventV2,
} from '../../lambdas/core/contract.ts';
import { SCHEMA_PATH, renderSchema } from '../../scripts/gen-schema.ts';

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats.default(ajv);
const ajvValidate = ajv.compile(eventJsonSchema());

const sample: ListeningEventV1 = {
  event_id: '3b241101-e2bb-4255-8caf-4136c566a962',
  user_id: 'user_000001',
  song_id: '4uLU6hMCjMI75M1A2tKUQC',
  artist_name: 'Björn Lindqvist',
  song_name: 'Don\'t Leave the "Harbor"',
  event_type: 'play',
  device_type: 'mobile',
  country: 'SE',
  timestamp: '2026-11-23T08:15:00.123Z',
  duration_ms: 215_000,
  schema_version: SCHEMA_VERSION_V1,
};

/** A version-2 event as the Web API gives it: no device, no milliseconds listened. */
const sampleV2: ListeningEventV2 = {
  event_id: '3b241101-e2bb-5255-8caf-4136c566a962',
  user_id: 'user_000001',
  song_id: '4uLU6hMCjMI75M1A2tKUQC',
  artist_name: 'Björn Lindqvist',
  song_name: 'Don\'t Leave the "Harbor"',
  album_name: 'Harbor Lights',
  track_length_ms: 231_000,
  event_type: 'play',
  device_type: null,
  country: 'SE',
  timestamp: '2026-11-23T08:15:00.123Z',
  duration_ms: null,
  source: 'spotify_api',
  schema_version: SCHEMA_VERSION_V2,
};

/** Any version-1 event the contract accepts. */
const validEventV1: fc.Arbitrary<ListeningEventV1> = fc.record({
  event_id: fc.uuid({ version: 4 }),
  user_id: fc.string({ minLength: 1, maxLength: 64 }),
  song_id: fc.string({ minLength: 1, maxLength: 64 }),
  artist_name: fc.string({ minLength: 1, maxLength: MAX_TEXT_LENGTH }),
  song_name: fc.string({ minLength: 1, maxLength: MAX_TEXT_LENGTH }),
  event_type: fc.constantFrom(...EVENT_TYPES),
  device_type: fc.constantFrom(...DEVICE_TYPES),
  country: fc.constantFrom(...COUNTRY_CODES),
  timestamp: fc
    .date({
      min: new Date('2000-01-01T00:00:00Z'),
      max: new Date('2099-12-31T23:59:59Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
  duration_ms: fc.integer({ min: 0, max: MAX_DURATION_MS }),
  schema_version: fc.constant(SCHEMA_VERSION_V1),
});

/** Any version-2 event the contract accepts, unknowns (null) included. */
const validEventV2: fc.Arbitrary<ListeningEventV2> = validEventV1.chain((v1) =>
  fc.record({
    event_id: fc.constant(v1.event_id),
    user_id: fc.constant(v1.user_id),
    song_id: fc.constant(v1.song_id),
    artist_name: fc.constant(v1.artist_name),
    song_name: fc.constant(v1.song_name),
    album_name: fc.option(fc.string({ minLength: 1, maxLength: MAX_TEXT_LENGTH })),
    track_length_ms: fc.option(fc.integer({ min: 1, max: MAX_DURATION_MS })),
    event_type: fc.constant(v1.event_type),
    device_type: fc.option(fc.constant(v1.device_type)),
    country: fc.option(fc.constant(v1.country)),
    timestamp: fc.constant(v1.timestamp),
    duration_ms: fc.option(fc.constant(v1.duration_ms)),
    source: fc.constantFrom(...EVENT_SOURCES),
    schema_version: fc.constant(SCHEMA_VERSION_V2),
  }),
);

/** Any event the contract accepts, of either version. */
const validEvent: fc.Arbitrary<ListeningEvent> = fc.oneof(validEventV1, validEventV2);

const FIELDS_V1 = Object.keys(sample) as (keyof ListeningEventV1)[];
const FIELDS_V2 = Object.keys(sampleV2) as (keyof ListeningEventV2)[];
const fieldsOf = (event: ListeningEvent): readonly string[] =>
  event.schema_version === SCHEMA_VERSION_V2 ? FIELDS_V2 : FIELDS_V1;

describe('the event contract', () => {
  it('accepts a well-formed event of either version and returns it', () => {
    for (const event of [sample, sampleV2]) {
      // Act
      const result = validateEvent(event);
      // Assess
      expect(result).toEqual({ ok: true, event });
    }
  });

  it('takes null as unknown only in version 2, and only where the contract allows it', () => {
    // Act / Assess
    expect(validateEvent({ ...sample, device_type: null }).ok).toBe(false);
    expect(validateEvent({ ...sample, duration_ms: null }).ok).toBe(false);
    for (const field of ['album_name', 'track_length_ms', 'device_type', 'country', 'duration_ms']) {
      expect(validateEvent({ ...sampleV2, [field]: null }).ok, field).toBe(true);
    }
    for (const field of [
      'event_id',
      'user_id',
      'song_id',
      'artist_name',
      'song_name',
      'event_type',
      'timestamp',
      'source',
    ]) {
      const result = validateEvent({ ...sampleV2, [field]: null });
      expect(result.ok ? [] : result.problems.map((p) => p.path), field).toEqual([field]);
    }
  });

  it('refuses version-2 fields in a version-1 event, and a version 2 without its fields', () => {
    // Act
    const v1WithSource = validateEvent({ ...sample, source: 'simulator' });
    const { source: _s, album_name: _a, ...v2WithoutNew } = sampleV2;
    const v2Missing = validateEvent(v2WithoutNew);
    // Assess
    expect(v1WithSource.ok ? [] : v1WithSource.problems.map((p) => p.code)).toEqual(['unrecognized_keys']);
    expect(v2Missing.ok ? [] : v2Missing.problems.map((p) => p.message).sort()).toEqual([
      'Missing required field "album_name"',
      'Missing required field "source"',
    ]);
  });

  it('names a wrong or absent schema_version and the versions it accepts', () => {
    // Act
    const three = validateEvent({ ...sampleV2, schema_version: 3 });
    const { schema_version: _v, ...unversioned } = sampleV2;
    const absent = validateEvent(unversioned);
    // Assess: judged as version 2 (it has version-2 fields), so only the version is wrong.
    expect(three.ok ? [] : three.problems).toEqual([
      { path: 'schema_version', code: 'invalid_value', message: 'Invalid schema_version 3: expected 1 or 2' },
    ]);
    expect(absent.ok ? [] : absent.problems).toEqual([
      { path: 'schema_version', code: 'invalid_type', message: 'Missing required field "schema_version"' },
    ]);
  });

  it('bounds track_length_ms as the contract says (1 ms to a day, an integer)', () => {
    for (const [value, ok] of [
      [0, false],
      [1, true],
      [MAX_DURATION_MS, true],
      [MAX_DURATION_MS + 1, false],
      [1.5, false],
      ['1', false],
    ] as const) {
      expect(validateEvent({ ...sampleV2, track_length_ms: value }).ok, String(value)).toBe(ok);
    }
  });

  it('reports every problem of a record, each with its field', () => {
    // Prepare
    const { song_id: _dropped, ...rest } = sample;
    const record = {
      ...rest,
      duration_ms: -1,
      event_type: 'seek',
      country: 'UK',
      timestamp: '2026-11-23 08:15',
      extra: 1,
    };
    // Act
    const result = validateEvent(record);
    // Assess
    expect(result.ok).toBe(false);
    const paths = result.ok ? [] : result.problems.map((p) => p.path).sort();
    expect(paths).toEqual(['', 'country', 'duration_ms', 'event_type', 'song_id', 'timestamp']);
  });

  it('names a wrong country with the expected form of the value', () => {
    // Act
    const result = validateEvent({ ...sample, country: 'UK' });
    // Assess
    expect(result.ok ? '' : result.problems[0]?.message).toMatch(/Invalid country "UK".*ISO 3166-1 alpha-2/);
  });

  it('refuses timestamps with an offset or without a zone: event time is UTC', () => {
    for (const timestamp of ['2026-11-23T08:15:00+01:00', '2026-11-23T08:15:00', '1732345200000']) {
      // Act
      const result = validateEvent({ ...sample, timestamp });
      // Assess
      expect(result.ok, timestamp).toBe(false);
    }
  });

  it('accepts every event of the arbitrary, as does the JSON Schema', () => {
    fc.assert(
      fc.property(validEvent, (event) => {
        expect(validateEvent(event).ok).toBe(true);
        expect(ajvValidate(event)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with its JSON Schema on records with one field changed or removed', () => {
    const replacement = fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.boolean(),
      fc.integer({ min: -10, max: 100_000_000 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.string({ maxLength: 12 }),
      fc.constantFrom('play', 'tv', 'UK', 'US', '2026-11-23T08:15:00Z', '1', ''),
      fc.array(fc.integer(), { maxLength: 2 }),
    );
    fc.assert(
      fc.property(validEvent, fc.constantFrom(...FIELDS_V2), replacement, (event, field, value) => {
        // Prepare
        const record: Record<string, unknown> = { ...event };
        if (value === undefined) delete record[field];
        else record[field] = value;
        // Act
        const zodOk = validateEvent(record).ok;
        const ajvOk = ajvValidate(record);
        // Assess
        expect(zodOk).toBe(ajvOk);
      }),
      { numRuns: 1000 },
    );
  });

  it('is checked into docs/event.schema.json exactly as generated (npx tsx scripts/gen-schema.ts)', async () => {
    // Act
    const checkedIn = await readFile(SCHEMA_PATH, 'utf8');
    // Assess
    expect(checkedIn).toBe(renderSchema());
    expect(JSON.parse(checkedIn)).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      oneOf: [
        { additionalProperties: false, required: FIELDS_V1 },
        { additionalProperties: false, required: FIELDS_V2 },
      ],
    });
  });
});

describe('missing fields', () => {
  it.each([
    ...FIELDS_V1.map((field) => ['version 1', field] as const),
    ...FIELDS_V2.map((field) => ['version 2', field] as const),
  ])('reports an absent field of %s, %s, as a missing required field', (version, field) => {
    // Prepare
    const record: Record<string, unknown> = { ...(version === 'version 1' ? sample : sampleV2) };
    delete record[field];
    // Act
    const result = validateEvent(record);
    // Assess
    expect(result.ok ? [] : result.problems).toEqual([
      { path: field, code: 'invalid_type', message: `Missing required field "${field}"` },
    ]);
  });
});

describe("validateEvent's fast path", () => {
  /** What validateEvent returned before it had a fast path: zod alone. */
  const zodOnly = (input: unknown): unknown => {
    const r = ListeningEventSchema.safeParse(input);
    return r.success ? { ok: true, json: JSON.stringify(r.data) } : { ok: false };
  };
  const ours = (input: unknown): unknown => {
    const r = validateEvent(input);
    return r.ok ? { ok: true, json: JSON.stringify(r.event) } : { ok: false };
  };
  const edgy = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.constant(-0),
    fc.constantFrom(0, 1, 1.5, -1, MAX_DURATION_MS, MAX_DURATION_MS + 1, 2 ** 53, Number.NaN, Infinity),
    fc.constantFrom('', 'x', 'x'.repeat(64), 'x'.repeat(65), 'x'.repeat(256), 'x'.repeat(257)),
    fc.constantFrom('😀'.repeat(32), '😀'.repeat(33), '😀'.repeat(128), '😀'.repeat(129)),
    fc.constantFrom('play', 'PLAY', 'web', 'SE', 'se', 'XX', ' SE', ...EVENT_SOURCES, 'Simulator'),
    fc.constantFrom(1, 2, 3, '2'),
    fc.constantFrom(
      '2026-02-29T00:00:00Z',
      '2028-02-29T00:00:00Z',
      '2026-11-23T08:15:00.123456Z',
      '2026-11-23T08:15:00+00:00',
      '2026-11-23T24:00:00Z',
      '2026-11-23 08:15:00Z',
    ),
    fc.constantFrom(
      '3b241101-e2bb-4255-8caf-4136c566a962',
      '3B241101-E2BB-4255-8CAF-4136C566A962',
      '3b241101-e2bb-0255-8caf-4136c566a962',
      '00000000-0000-0000-0000-000000000000',
      '3b241101e2bb42558caf4136c566a962',
    ),
    fc.string({ maxLength: 80 }),
    fc.integer(),
    fc.boolean(),
  );

  it('gives exactly what zod alone gives, output order included, on valid and broken records', () => {
    fc.assert(
      fc.property(
        validEvent,
        fc.array(fc.tuple(fc.constantFrom(...FIELDS_V2, 'extra', '__proto__', 'constructor'), edgy), {
          maxLength: 3,
        }),
        fc.boolean(),
        (event, changes, reorder) => {
          // Prepare: some fields changed, removed or added, the keys perhaps in another order.
          const record: Record<string, unknown> = {};
          const fields = fieldsOf(event);
          const keys = reorder ? [...fields].reverse() : fields;
          for (const k of keys) record[k] = (event as unknown as Record<string, unknown>)[k];
          for (const [field, value] of changes) {
            if (value === undefined) delete record[field];
            else
              Object.defineProperty(record, field, {
                value,
                enumerable: true,
                writable: true,
                configurable: true,
              });
          }
          // Act / Assess
          expect(ours(record)).toEqual(zodOnly(record));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('leaves records with inherited keys to zod, which refuses them', () => {
    for (const event of [sample, sampleV2]) {
      const inherited = Object.assign(Object.create({ extra: 1 }) as object, event);
      expect(acceptedAsIs(inherited)).toBeUndefined();
      expect(ours(inherited)).toEqual(zodOnly(inherited));
    }
    const { schema_version: _v, ...unversioned } = sampleV2;
    const inheritedVersion = Object.assign(Object.create({ schema_version: 2 }) as object, unversioned);
    expect(acceptedAsIs(inheritedVersion)).toBeUndefined();
    expect(ours(inheritedVersion)).toEqual(zodOnly(inheritedVersion));
  });

  it('takes every valid event without zod, in contract order', () => {
    fc.assert(
      fc.property(validEvent, (event) => {
        const reversed = Object.fromEntries(Object.entries(event).reverse());
        expect(JSON.stringify(acceptedAsIs(reversed))).toBe(JSON.stringify(event));
      }),
      { numRuns: 300 },
    );
  });
});
