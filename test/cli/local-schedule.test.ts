/**
 * The schedule `mds local up` runs the workflow on while it serves: the environment's schedule.expression in its
 * schedule.timeZone, as EventBridge Scheduler evaluates it. Fire times are checked against the meanings the AWS
 * documentation gives its examples (EventBridge "Cron expressions reference", Scheduler "Schedule types"), and
 * daylight saving time as AWS documents it: a time that does not exist is skipped, a repeated one fires once.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/environments.ts';
import {
  evaluateSchedule,
  workflowScheduleOf,
  type WorkflowSchedule,
} from '../../localstack/workflow/schedule.ts';
import { runOnSchedule, type SchedulerClock } from '../../localstack/workflow/scheduler.ts';
import { describeNextRun, scheduledWindow } from '../../bin/commands/local/serve.ts';

const START = new Date('2026-01-01T00:00:00Z');

function fires(expression: string, from: string, n: number, timeZone = 'UTC', start = START): string[] {
  const schedule = evaluateSchedule({ expression, timeZone, enabled: true }, start);
  const out: string[] = [];
  let after = new Date(from);
  for (let i = 0; i < n; i += 1) {
    const next = schedule.next(after);
    if (!next) break;
    out.push(next.toISOString());
    after = next;
  }
  return out;
}

describe('cron expressions: the AWS documentation examples', () => {
  it.each([
    // "Run at 10:00 am (UTC+0) every day"
    ['cron(0 10 * * ? *)', '2026-12-01T11:00:00Z', ['2026-12-02T10:00:00.000Z', '2026-12-03T10:00:00.000Z']],
    // "Run at 12:15 pm (UTC+0) every day"
    ['cron(15 12 * * ? *)', '2026-12-01T11:00:00Z', ['2026-12-01T12:15:00.000Z', '2026-12-02T12:15:00.000Z']],
    // "Run at 6:00 pm (UTC+0) every Monday through Friday" (2026-12-04 is a Friday)
    [
      'cron(0 18 ? * MON-FRI *)',
      '2026-12-04T17:00:00Z',
      ['2026-12-04T18:00:00.000Z', '2026-12-07T18:00:00.000Z', '2026-12-08T18:00:00.000Z'],
    ],
    // "Run at 8:00 am (UTC+0) every first day of the month"
    ['cron(0 8 1 * ? *)', '2026-12-01T09:00:00Z', ['2027-01-01T08:00:00.000Z', '2027-02-01T08:00:00.000Z']],
    // "Run every 15 minutes"
    [
      'cron(0/15 * * * ? *)',
      '2026-12-01T11:07:00Z',
      ['2026-12-01T11:15:00.000Z', '2026-12-01T11:30:00.000Z', '2026-12-01T11:45:00.000Z'],
    ],
    // "1/10 ... every tenth minute, starting from the first minute of the hour (the 11th, 21st, 31st ...)"
    [
      'cron(1/10 * * * ? *)',
      '2026-12-01T11:05:00Z',
      ['2026-12-01T11:11:00.000Z', '2026-12-01T11:21:00.000Z'],
    ],
    // "Run every 10 minutes Monday through Friday"
    [
      'cron(0/10 * ? * MON-FRI *)',
      '2026-12-04T23:45:00Z',
      ['2026-12-04T23:50:00.000Z', '2026-12-07T00:00:00.000Z'],
    ],
    // "Run every 5 minutes Monday through Friday between 8:00 am and 5:55 pm (UTC+0)"
    [
      'cron(0/5 8-17 ? * MON-FRI *)',
      '2026-12-04T17:50:00Z',
      ['2026-12-04T17:55:00.000Z', '2026-12-07T08:00:00.000Z'],
    ],
    // "Run at 9:00 am (UTC+0) the first Monday of each month" (# = nth; 2 = Monday)
    ['cron(0 9 ? * 2#1 *)', '2026-12-01T00:00:00Z', ['2026-12-07T09:00:00.000Z', '2027-01-04T09:00:00.000Z']],
    // "3#2 is the second Tuesday of the month"
    ['cron(0 9 ? * 3#2 *)', '2026-12-01T00:00:00Z', ['2026-12-08T09:00:00.000Z', '2027-01-12T09:00:00.000Z']],
    // Scheduler's example: "10:15 am on the last Friday of every month during 2022-2023", and none after
    [
      'cron(15 10 ? * 6L 2022-2023)',
      '2023-10-01T00:00:00Z',
      ['2023-10-27T10:15:00.000Z', '2023-11-24T10:15:00.000Z', '2023-12-29T10:15:00.000Z'],
    ],
    // L in day-of-month: the last day of the month; in day-of-week: the last day of the week (Saturday)
    ['cron(0 9 L * ? *)', '2026-02-01T00:00:00Z', ['2026-02-28T09:00:00.000Z', '2026-03-31T09:00:00.000Z']],
    ['cron(0 9 ? * L *)', '2026-12-01T00:00:00Z', ['2026-12-05T09:00:00.000Z', '2026-12-12T09:00:00.000Z']],
    // "3W specifies the weekday closest to the third day of the month" (2026-01-03 is a Saturday)
    ['cron(0 9 3W * ? *)', '2026-01-01T00:00:00Z', ['2026-01-02T09:00:00.000Z', '2026-02-03T09:00:00.000Z']],
    // Month and weekday names, a list, the default schedule of every environment
    ['cron(0 12 ? JAN,JUL SUN *)', '2026-12-01T00:00:00Z', ['2027-01-03T12:00:00.000Z']],
    ['cron(5 * * * ? *)', '2026-12-01T11:05:00Z', ['2026-12-01T12:05:00.000Z', '2026-12-01T13:05:00.000Z']],
  ])('%s after %s', (expression, from, expected) => {
    expect(fires(expression, from, expected.length + (expression.includes('2022-2023') ? 1 : 0))).toEqual(
      expected,
    );
  });
});

describe('time zones and daylight saving time (America/New_York: 2026-03-08 02:00 -> 03:00, 2026-11-01 02:00 -> 01:00)', () => {
  const NY = 'America/New_York';
  it('evaluates the expression in the time zone: 10:00 is 15:00Z in winter, 14:00Z in summer', () => {
    expect(fires('cron(0 10 * * ? *)', '2026-03-07T00:00:00Z', 2, NY)).toEqual([
      '2026-03-07T15:00:00.000Z',
      '2026-03-08T14:00:00.000Z',
    ]);
  });
  it('skips a time that does not exist when the clocks go forward', () => {
    // 02:30 on 2026-03-08 never happens in New York: that day has no run.
    expect(fires('cron(30 2 * * ? *)', '2026-03-07T00:00:00Z', 2, NY)).toEqual([
      '2026-03-07T07:30:00.000Z',
      '2026-03-09T06:30:00.000Z',
    ]);
    expect(fires('cron(0/30 * * * ? *)', '2026-03-08T06:00:00Z', 3, NY)).toEqual([
      '2026-03-08T06:30:00.000Z', // 01:30 EST
      '2026-03-08T07:00:00.000Z', // 03:00 EDT: 02:00 and 02:30 do not exist
      '2026-03-08T07:30:00.000Z',
    ]);
  });
  it('runs a time that occurs twice when the clocks go back once', () => {
    expect(fires('cron(30 1 * * ? *)', '2026-10-31T12:00:00Z', 2, NY)).toEqual([
      '2026-11-01T05:30:00.000Z', // 01:30 EDT; not again at 01:30 EST (06:30Z)
      '2026-11-02T06:30:00.000Z',
    ]);
    expect(fires('cron(0/30 * * * ? *)', '2026-11-01T04:45:00Z', 3, NY)).toEqual([
      '2026-11-01T05:00:00.000Z', // 01:00 EDT
      '2026-11-01T05:30:00.000Z', // 01:30 EDT
      '2026-11-01T07:00:00.000Z', // 02:00 EST: 01:00 and 01:30 EST are not run again
    ]);
  });
  it('a rate of days is 24 hours, whatever the clocks do', () => {
    const start = new Date('2026-03-07T15:00:00Z');
    expect(fires('rate(1 day)', '2026-03-07T15:00:00Z', 2, NY, start)).toEqual([
      '2026-03-08T15:00:00.000Z',
      '2026-03-09T15:00:00.000Z',
    ]);
  });
  it('at() is a wall-clock time in the time zone, once', () => {
    expect(fires('at(2026-11-20T13:00:00)', '2026-11-01T00:00:00Z', 2, 'Europe/Berlin')).toEqual([
      '2026-11-20T12:00:00.000Z',
    ]);
    expect(fires('at(2026-11-20T13:00:00)', '2026-11-21T00:00:00Z', 1, 'Europe/Berlin')).toEqual([]);
  });
});

describe('rate expressions', () => {
  it('fire from the start of the schedule, every n units', () => {
    const start = new Date('2026-12-01T12:34:56Z');
    expect(fires('rate(1 hour)', '2026-12-01T12:34:55.999Z', 3, 'UTC', start)).toEqual([
      '2026-12-01T12:34:56.000Z',
      '2026-12-01T13:34:56.000Z',
      '2026-12-01T14:34:56.000Z',
    ]);
    expect(fires('rate(5 minutes)', '2026-12-01T12:40:00Z', 2, 'UTC', start)).toEqual([
      '2026-12-01T12:44:56.000Z',
      '2026-12-01T12:49:56.000Z',
    ]);
  });
});

describe('expressions EventBridge Scheduler refuses are refused, naming the setting', () => {
  it.each([
    ['cron(5 * * * * *)', /exactly one of day-of-month and day-of-week must be \?/],
    ['cron(5 * ? * ? *)', /exactly one of day-of-month and day-of-week must be \?/],
    ['cron(5 * * * ?)', /six fields .* not 5/],
    ['cron(5 25 * * ? *)', /hour/],
    ['every hour', /expected cron\(\.\.\.\), rate\(\.\.\.\) or at\(\.\.\.\)/],
  ])('%s', (expression, message) => {
    expect(() => evaluateSchedule({ expression, timeZone: 'UTC', enabled: true }, START)).toThrow(
      new RegExp(`^schedule\\.expression "${expression.replace(/[()*?]/g, '\\$&')}" .*${message.source}`),
    );
  });
});

describe('the schedule of the environment', () => {
  const template = (schedule: WorkflowSchedule) =>
    new Map([
      [
        'Mds-dev-Pipeline',
        {
          Resources: {
            Workflow193EF7C1: { Type: 'AWS::StepFunctions::StateMachine' },
            Other: {
              Type: 'AWS::Scheduler::Schedule',
              Properties: { ScheduleExpression: 'rate(1 minute)', Target: { Arn: { 'Fn::GetAtt': ['X'] } } },
            },
            HourlySchedule331B0D7D: {
              Type: 'AWS::Scheduler::Schedule',
              Properties: {
                ScheduleExpression: schedule.expression,
                ScheduleExpressionTimezone: schedule.timeZone,
                State: schedule.enabled ? 'ENABLED' : 'DISABLED',
                Target: { Arn: { Ref: 'Workflow193EF7C1' } },
              },
            },
          },
        },
      ],
    ]);

  it('is the one of the synthesized Pipeline stack that starts the state machine', () => {
    const configured = loadConfig('dev', {
      schedule: { expression: 'cron(0 */2 * * ? *)', timeZone: 'Asia/Kolkata' },
    }).schedule;
    expect(workflowScheduleOf(template(configured), 'Mds-dev-Pipeline')).toEqual(configured);
  });

  it("dev's default fires at five past every hour, each run for the hour before", () => {
    const schedule = evaluateSchedule(loadConfig('dev').schedule, START);
    const next = schedule.next(new Date('2026-12-01T12:34:00Z'));
    expect(next?.toISOString()).toBe('2026-12-01T13:05:00.000Z');
    expect(scheduledWindow(next!)).toEqual({
      start: '2026-12-01T12:00:00.000Z',
      end: '2026-12-01T13:00:00.000Z',
    });
    expect(describeNextRun(schedule.schedule, next)).toBe(
      'the workflow runs on the schedule cron(5 * * * ? *) (UTC): next at 2026-12-01T13:05:00.000Z, for the window 2026-12-01T12:00:00.000Z .. 2026-12-01T13:00:00.000Z',
    );
  });

  it('paused (schedule.enabled false) fires nothing', () => {
    const paused = loadConfig('dev', { schedule: { enabled: false } }).schedule;
    const fromTemplate = workflowScheduleOf(template(paused), 'Mds-dev-Pipeline');
    expect(fromTemplate.enabled).toBe(false);
    expect(evaluateSchedule(fromTemplate, START).next(new Date('2026-12-01T12:34:00Z'))).toBeUndefined();
    expect(describeNextRun(fromTemplate, undefined)).toMatch(
      /is paused \(schedule\.enabled false\): no scheduled run/,
    );
  });
});

/** A clock a test moves by hand: sleepers wake when it reaches their time. */
class ManualClock implements SchedulerClock {
  private readonly sleepers: { time: number; wake: () => void }[] = [];
  private waiting: ((time: number) => void) | undefined;
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  sleepUntil(time: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (time <= this.t) return resolve();
      this.sleepers.push({ time, wake: resolve });
      signal.addEventListener('abort', () => resolve());
      this.waiting?.(time);
    });
  }
  /** The time the loop sleeps until next. */
  nextSleep(): Promise<number> {
    const pending = this.sleepers.at(-1);
    if (pending && pending.time > this.t) return Promise.resolve(pending.time);
    return new Promise((resolve) => (this.waiting = resolve));
  }
  advanceTo(t: number): void {
    this.t = t;
    for (const s of this.sleepers.splice(0))
      if (s.time <= t) s.wake();
      else this.sleepers.push(s);
  }
}

describe('the serving loop', () => {
  it('fires at each computed time with that time as scheduledTime, and not before', async () => {
    const clock = new ManualClock(Date.parse('2026-12-01T12:34:00Z'));
    const schedule = evaluateSchedule(
      { expression: 'cron(5 * * * ? *)', timeZone: 'UTC', enabled: true },
      START,
    );
    const stop = new AbortController();
    const fired: string[] = [];
    const loop = runOnSchedule({
      schedule,
      clock,
      signal: stop.signal,
      fire: async (t) => {
        fired.push(`${t.toISOString()} at ${new Date(clock.now()).toISOString()}`);
      },
    });
    expect(new Date(await clock.nextSleep()).toISOString()).toBe('2026-12-01T13:05:00.000Z');
    clock.advanceTo(Date.parse('2026-12-01T13:04:59.999Z'));
    await Promise.resolve();
    expect(fired).toEqual([]);
    clock.advanceTo(Date.parse('2026-12-01T13:05:00Z'));
    expect(new Date(await clock.nextSleep()).toISOString()).toBe('2026-12-01T14:05:00.000Z');
    expect(fired).toEqual(['2026-12-01T13:05:00.000Z at 2026-12-01T13:05:00.000Z']);
    stop.abort();
    await loop;
    expect(fired).toHaveLength(1);
  });

  it('skips fire times that pass while a run is still going, and says so', async () => {
    const clock = new ManualClock(Date.parse('2026-12-01T12:00:30Z'));
    const schedule = evaluateSchedule(
      { expression: 'cron(0/1 * * * ? *)', timeZone: 'UTC', enabled: true },
      START,
    );
    const stop = new AbortController();
    const fired: string[] = [];
    const skipped: string[] = [];
    const loop = runOnSchedule({
      schedule,
      clock,
      signal: stop.signal,
      fire: async (t) => {
        fired.push(t.toISOString());
        clock.advanceTo(Date.parse('2026-12-01T12:03:30Z')); // the run takes two and a half minutes
      },
      skipped: (first, count) => skipped.push(`${first.toISOString()} x${count}`),
    });
    clock.advanceTo(Date.parse(new Date(await clock.nextSleep()).toISOString()));
    expect(new Date(await clock.nextSleep()).toISOString()).toBe('2026-12-01T12:04:00.000Z');
    expect(fired).toEqual(['2026-12-01T12:01:00.000Z']);
    expect(skipped).toEqual(['2026-12-01T12:02:00.000Z x2']);
    stop.abort();
    await loop;
  });

  it('a paused schedule fires nothing however long it serves', async () => {
    const clock = new ManualClock(Date.parse('2026-12-01T12:34:00Z'));
    const schedule = evaluateSchedule(
      { expression: 'cron(5 * * * ? *)', timeZone: 'UTC', enabled: false },
      START,
    );
    const stop = new AbortController();
    let fired = 0;
    const loop = runOnSchedule({ schedule, clock, signal: stop.signal, fire: async () => void (fired += 1) });
    expect(await clock.nextSleep()).toBe(Number.POSITIVE_INFINITY);
    clock.advanceTo(Date.parse('2027-12-01T00:00:00Z'));
    stop.abort();
    await loop;
    expect(fired).toBe(0);
  });
});
