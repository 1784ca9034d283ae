import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lambdas/core/errors.ts';
import { compact, planWindow } from '../../lambdas/planner/plan.ts';

const options = { maxWindowDays: 7, lookbackHours: 24 };
const now = new Date('2026-11-23T11:17:42Z');

describe('planWindow', () => {
  it('plans the hour before now for an empty input', () => {
    // Act
    const plan = planWindow({ input: {}, executionName: 'manual-1' }, now, options);
    // Assess
    expect(plan).toEqual({
      runId: '20261123T1000Z-manual-1',
      window: { start: '2026-11-23T10:00:00.000Z', end: '2026-11-23T11:00:00.000Z' },
      lookbackHours: 24,
    });
  });

  it('plans the hour before the scheduled time (the scheduler fires at :05)', () => {
    const plan = planWindow(
      { input: { scheduledTime: '2026-11-20T03:05:00Z' }, executionName: 'e' },
      now,
      options,
    );
    expect(plan.window).toEqual({ start: '2026-11-20T02:00:00.000Z', end: '2026-11-20T03:00:00.000Z' });
  });

  it('takes any whole-hour window for a backfill, converting zones to UTC', () => {
    const plan = planWindow(
      {
        input: { window: { start: '2026-11-01T00:00:00+01:00', end: '2026-11-03T00:00:00Z' } },
        executionName: 'bf',
      },
      now,
      options,
    );
    expect(plan.window).toEqual({ start: '2026-10-31T23:00:00.000Z', end: '2026-11-03T00:00:00.000Z' });
    expect(plan.runId).toBe('20261031T2300Z-bf');
  });

  it('makes up a unique run id when there is no execution name', () => {
    const a = planWindow({}, now, options);
    const b = planWindow({}, now, options);
    expect(a.runId).toMatch(/^20261123T1000Z-[0-9a-f-]{36}$/);
    expect(a.runId).not.toBe(b.runId);
  });

  it.each([
    [
      { window: { start: '2026-11-01T00:30:00Z', end: '2026-11-01T02:00:00Z' } },
      'window.start 2026-11-01T00:30:00.000Z is not on an hour boundary',
    ],
    [
      { window: { start: '2026-11-01T02:00:00Z', end: '2026-11-01T02:00:00Z' } },
      'must be after window.start',
    ],
    [{ window: { start: '2026-11-23T10:00:00Z', end: '2026-11-23T12:00:00Z' } }, 'is in the future'],
    [{ window: { start: '2026-11-01T00:00:00Z', end: '2026-11-09T00:00:00Z' } }, 'at most 7 days'],
    [
      { window: { start: '2026-11-01 00:00', end: '2026-11-02T00:00:00Z' } },
      'window.start must be an ISO-8601 instant with a zone',
    ],
    [{ window: '2026-11-01' }, 'window must be an object'],
    [{ scheduledTime: 1700000000 }, 'scheduledTime must be an ISO-8601 instant'],
  ])('rejects %j', (input, message) => {
    expect(() => planWindow({ input, executionName: 'x' }, now, options)).toThrow(ValidationError);
    expect(() => planWindow({ input, executionName: 'x' }, now, options)).toThrow(message);
  });

  it('rejects an input that is not an object', () => {
    expect(() => planWindow({ input: [1] }, now, options)).toThrow('must be a JSON object');
  });

  it('always plans one whole past hour for a scheduled run', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2020-01-01'), max: now, noInvalidDate: true }), (scheduled) => {
        const plan = planWindow(
          { input: { scheduledTime: scheduled.toISOString() }, executionName: 'p' },
          now,
          options,
        );
        const start = Date.parse(plan.window.start);
        const end = Date.parse(plan.window.end);
        expect(end - start).toBe(3_600_000);
        expect(start % 3_600_000).toBe(0);
        expect(end).toBeLessThanOrEqual(scheduled.getTime());
        expect(scheduled.getTime() - end).toBeLessThan(3_600_000);
      }),
    );
  });
});

describe('compact', () => {
  it('formats an instant as YYYYMMDDTHHmmZ', () => {
    expect(compact(new Date('2026-01-02T03:04:05Z'))).toBe('20260102T0304Z');
  });
});
