import { describe, expect, it } from 'vitest';
import { UsageError } from '../../lambdas/core/errors.ts';
import { resolveSimulation, type SimulationFlags } from '../../bin/commands/simulate.ts';

const flags: SimulationFlags = {
  seed: 42,
  users: 1000,
  songs: 5000,
  duplicateFraction: 0,
  lateFraction: 0,
  invalidFraction: 0,
};
const NOW = new Date('2026-11-23T12:34:56.789Z');

describe('resolveSimulation (the flags every simulating command shares)', () => {
  it('defaults to 10,000 events over the six hours before the start of the current hour', () => {
    // Act
    const options = resolveSimulation(flags, NOW);
    // Assess
    expect(options).toMatchObject({
      seed: 42,
      events: 10_000,
      start: new Date('2026-11-23T06:00:00.000Z'),
      end: new Date('2026-11-23T12:00:00.000Z'),
    });
  });

  it('takes the default event count of the calling command', () => {
    expect(resolveSimulation(flags, NOW, { events: 300_000 }).events).toBe(300_000);
    expect(resolveSimulation({ ...flags, events: 5 }, NOW, { events: 300_000 }).events).toBe(5);
  });

  it('turns --rate and --duration into events over a window of that length ending at --end', () => {
    // Act
    const options = resolveSimulation(
      { ...flags, rate: 100, duration: 90_000, end: new Date('2026-11-23T10:00:00Z') },
      NOW,
    );
    // Assess
    expect(options).toMatchObject({
      events: 9000,
      start: new Date('2026-11-23T09:58:30.000Z'),
      end: new Date('2026-11-23T10:00:00.000Z'),
    });
  });

  it('keeps an explicit window, ending at the default end when only --start is given', () => {
    const start = new Date('2026-11-23T00:00:00Z');
    expect(resolveSimulation({ ...flags, start }, NOW)).toMatchObject({
      start,
      end: new Date('2026-11-23T12:00:00Z'),
    });
  });

  it.each([
    [{ rate: 5 }, /--rate and --duration go together/],
    [{ events: 5, rate: 5, duration: 60_000 }, /--events conflicts/],
    [
      { rate: 5, duration: 60_000, start: new Date('2026-11-23T00:00:00Z') },
      /--start conflicts with --duration/,
    ],
    [{ start: new Date('2026-11-24T00:00:00Z') }, /--end 2026-11-23T12:00:00.000Z is not after --start/],
    [{ events: 10, lateFraction: 0.5, invalidFraction: 0.6 }, /--late-fraction/],
  ] as const)('refuses %o with a UsageError naming the flags', (change, message) => {
    expect(() => resolveSimulation({ ...flags, ...change }, NOW)).toThrow(UsageError);
    expect(() => resolveSimulation({ ...flags, ...change }, NOW)).toThrow(message);
  });
});
