import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lambdas/core/errors.ts';
import { simulate, type SimulatedRecord, type SimulatorOptions } from '../../lambdas/core/simulator/index.ts';
import { END, eventOf, failureReason, hoursBefore } from './helpers.ts';

const ISO_MS_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const faulty: SimulatorOptions = {
  seed: 7,
  events: 20_000,
  start: hoursBefore(6),
  end: END,
  users: 300,
  songs: 800,
  duplicateFraction: 0.03,
  lateFraction: 0.04,
  invalidFraction: 0.05,
};

function collect(options: SimulatorOptions): SimulatedRecord[] {
  return [...simulate(options).records()];
}

describe('simulate: determinism', () => {
  it('yields the same records in the same order for the same options, on every call', () => {
    // Act
    const run = simulate(faulty);
    const first = [...run.records()];
    const second = [...run.records()];
    const third = collect({ ...faulty });
    // Assess
    expect(first.length).toBe(faulty.events);
    expect(second).toEqual(first);
    expect(third).toEqual(first);
  });

  it('yields different events for another seed', () => {
    // Act
    const a = collect({ ...faulty, events: 50 });
    const b = collect({ ...faulty, events: 50, seed: 8 });
    // Assess
    expect(b.map((r) => r.value)).not.toEqual(a.map((r) => r.value));
  });

  it('shares the world but no event id between successive windows of one seed (hour after hour)', () => {
    // Arrange: the hour after a day, and the day itself, with one seed.
    const day = { seed: 7, events: 2_000, start: hoursBefore(25), end: hoursBefore(1), duplicateFraction: 0 };
    const hour = { ...day, events: 500, start: hoursBefore(1), end: END };
    // Act
    const dayEvents = collect(day).map((r) => eventOf(r));
    const hourEvents = collect(hour).map((r) => eventOf(r));
    // Assess: no id of the hour was an id of the day; the same listeners keep their countries.
    const dayIds = new Set(dayEvents.map((e) => e.event_id));
    expect(hourEvents.filter((e) => dayIds.has(e.event_id))).toEqual([]);
    const countryOf = new Map(dayEvents.map((e) => [e.user_id, e.country]));
    const shared = hourEvents.filter((e) => countryOf.has(e.user_id));
    expect(shared.length).toBeGreaterThan(100);
    expect(shared.filter((e) => e.country !== countryOf.get(e.user_id))).toEqual([]);
    // And one seed and window still give the same ids.
    expect(collect(hour).map((r) => eventOf(r).event_id)).toEqual(hourEvents.map((e) => e.event_id));
  });
});

describe('simulate: records and summary', () => {
  const records = collect(faulty);
  const summary = simulate(faulty).summary();

  it('has a summary that counts exactly what records() yields, also after the generator is done', () => {
    // Prepare
    const run = simulate(faulty);
    const byFault = (f: string): number => records.filter((r) => r.fault === f).length;
    const byKind: Record<string, number> = {};
    for (const r of records) if (r.invalidKind) byKind[r.invalidKind] = (byKind[r.invalidKind] ?? 0) + 1;
    // Act
    for (const _ of run.records());
    const after = run.summary();
    // Assess
    expect(after).toEqual(summary);
    expect(summary.records).toBe(records.length);
    expect(summary.invalid).toBe(byFault('invalid'));
    expect(summary.duplicates).toBe(byFault('duplicate'));
    expect(summary.late).toBe(byFault('late'));
    expect(summary.valid).toBe(records.length - summary.invalid);
    expect(summary.distinctEvents).toBe(summary.valid - summary.duplicates);
    expect(summary.invalidByKind).toEqual(byKind);
    expect(Object.keys(byKind).sort()).toEqual([
      'malformed_json',
      'missing_field',
      'oversize',
      'unknown_enum',
      'wrong_type',
    ]);
    expect(summary).toMatchObject({ users: 300, songs: 800, artists: 100 });
    expect(summary.window).toEqual({ start: faulty.start.toISOString(), end: END.toISOString() });
  });

  it('yields records in send-time order', () => {
    for (let i = 1; i < records.length; i++) {
      expect(records[i]!.sendTime.getTime()).toBeGreaterThanOrEqual(records[i - 1]!.sendTime.getTime());
    }
  });

  it('gives every valid event an event time inside the window, in ms-precision UTC, keyed by user_id', () => {
    for (const record of records.filter((r) => r.fault !== 'invalid')) {
      const event = eventOf(record);
      const t = Date.parse(event.timestamp);
      expect(event.timestamp).toMatch(ISO_MS_Z);
      expect(t).toBeGreaterThanOrEqual(faulty.start.getTime());
      expect(t).toBeLessThan(END.getTime());
      expect(record.key).toBe(event.user_id);
      if (record.fault === 'none') expect(record.sendTime.toISOString()).toBe(event.timestamp);
    }
  });

  it('sends late events 1 to 6 hours after their event time', () => {
    const late = records.filter((r) => r.fault === 'late');
    expect(late.length).toBe(summary.late);
    for (const record of late) {
      const lag = record.sendTime.getTime() - Date.parse(eventOf(record).timestamp);
      expect(lag).toBeGreaterThanOrEqual(3_600_000);
      expect(lag).toBeLessThanOrEqual(6 * 3_600_000);
    }
  });

  it('re-sends duplicates byte for byte, after the original', () => {
    // Prepare
    const firstSent = new Map<string, number>();
    records.forEach((r, i) => {
      if (r.fault === 'none' || r.fault === 'late') firstSent.set(r.value, i);
    });
    // Assess
    const duplicates = records.map((r, i) => [r, i] as const).filter(([r]) => r.fault === 'duplicate');
    expect(duplicates.length).toBe(summary.duplicates);
    for (const [record, index] of duplicates) {
      const original = firstSent.get(record.value);
      expect(original, 'a duplicate must repeat an earlier valid record').toBeDefined();
      expect(original!).toBeLessThan(index);
      expect(record.sendTime.getTime()).toBeGreaterThan(records[original!]!.sendTime.getTime());
    }
  });

  it('has distinct event ids except for the duplicates', () => {
    const ids = records
      .filter((r) => r.fault === 'none' || r.fault === 'late')
      .map((r) => eventOf(r).event_id);
    expect(new Set(ids).size).toBe(summary.distinctEvents);
  });
});

describe('simulate: properties over arbitrary options', () => {
  const options = fc.record({
    seed: fc.integer({ min: 0, max: 2 ** 31 }),
    events: fc.integer({ min: 0, max: 400 }),
    startMs: fc.integer({ min: Date.parse('2020-01-01T00:00:00Z'), max: Date.parse('2030-01-01T00:00:00Z') }),
    windowMs: fc.integer({ min: 1, max: 3 * 86_400_000 }),
    users: fc.integer({ min: 1, max: 60 }),
    songs: fc.integer({ min: 1, max: 200 }),
    duplicateFraction: fc.double({ min: 0, max: 0.2, noNaN: true }),
    lateFraction: fc.double({ min: 0, max: 0.2, noNaN: true }),
    invalidFraction: fc.double({ min: 0, max: 0.3, noNaN: true }),
  });

  it('emits valid events that pass the contract and invalid records that fail it for their stated reason', () => {
    fc.assert(
      fc.property(options, ({ startMs, windowMs, ...rest }) => {
        // Prepare
        const opts: SimulatorOptions = {
          ...rest,
          start: new Date(startMs),
          end: new Date(startMs + windowMs),
        };
        // Act
        const run = simulate(opts);
        const records = [...run.records()];
        // Assess
        expect(records.length).toBe(opts.events);
        expect(records.filter((r) => r.fault === 'invalid').length).toBe(run.summary().invalid);
        for (const record of records) {
          expect(record.value).not.toContain('\n');
          expect(Buffer.byteLength(record.value)).toBeLessThan(64 * 1024);
          if (record.fault === 'invalid') {
            expect(failureReason(record.value)).toContain(record.invalidKind);
          } else {
            const t = Date.parse(eventOf(record).timestamp);
            expect(t).toBeGreaterThanOrEqual(startMs);
            expect(t).toBeLessThan(startMs + windowMs);
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('fails each invalid record for exactly one reason, its own', () => {
    // Act
    const invalid = collect({
      ...faulty,
      events: 5000,
      duplicateFraction: 0,
      lateFraction: 0,
      invalidFraction: 1,
    });
    // Assess
    for (const record of invalid) {
      expect(record.fault).toBe('invalid');
      expect(new Set(failureReason(record.value))).toEqual(new Set([record.invalidKind]));
      if (record.key === null) expect(['missing_field', 'malformed_json']).toContain(record.invalidKind);
    }
  });
});

describe('simulate: bounded memory', () => {
  it('streams: the first records of a billion-event run arrive without generating the rest', () => {
    // Act
    const first: SimulatedRecord[] = [];
    for (const record of simulate({
      seed: 1,
      events: 1_000_000_000,
      start: hoursBefore(6),
      end: END,
    }).records()) {
      first.push(record);
      if (first.length === 1000) break;
    }
    // Assess
    expect(first.length).toBe(1000);
    expect(first.every((r) => r.fault === 'none')).toBe(true);
  });
});

describe('simulate: bad options', () => {
  const base: SimulatorOptions = { seed: 1, events: 10, start: hoursBefore(1), end: END };
  it.each([
    ['end before start', { start: END, end: hoursBefore(1) }, 'end'],
    ['end equal to start', { start: END, end: END }, 'end'],
    ['negative events', { events: -1 }, 'events'],
    ['fractional events', { events: 1.5 }, 'events'],
    ['no users', { users: 0 }, 'users'],
    ['fraction above 1', { lateFraction: 1.5 }, 'lateFraction'],
    ['negative fraction', { invalidFraction: -0.1 }, 'invalidFraction'],
    [
      'more duplicates than events to copy',
      { duplicateFraction: 0.6 },
      'duplicateFraction/lateFraction/invalidFraction',
    ],
    ['invalid date', { start: new Date('nope') }, 'start'],
    ['year beyond 9999', { end: new Date('+010000-01-01T00:00:00Z') }, 'end'],
    ['window over 10 years', { start: new Date('2000-01-01T00:00:00Z') }, 'end'],
  ] as const)('throws a ConfigError naming the option: %s', (_name, change, setting) => {
    // Act
    const act = (): unknown => simulate({ ...base, ...change });
    // Assess
    expect(act).toThrow(ConfigError);
    try {
      act();
    } catch (err) {
      expect((err as ConfigError).setting).toBe(setting);
    }
  });

  it('yields nothing for zero events', () => {
    expect(collect({ ...base, events: 0 })).toEqual([]);
  });
});
