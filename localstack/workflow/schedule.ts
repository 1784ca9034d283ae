/**
 * When the hourly workflow's schedule fires, as EventBridge Scheduler evaluates it: the expression, time zone and
 * state of the environment's schedule (`schedule` in lib/config/environments.ts, as the synthesized Pipeline stack
 * holds it), evaluated locally so `mds local up` runs the workflow when the deployed schedule would.
 *
 * - `cron(min hour day-of-month month day-of-week year)`: AWS's six fields, with `?`, `*`, `,`, `-`, `/`, `L`,
 *   `W` and `#`, day-of-week 1-7 = SUN-SAT, evaluated in the schedule's time zone (croner does the matching).
 *   Daylight saving time as AWS documents it: a time that does not exist (clocks go forward) is skipped, a time
 *   that occurs twice (clocks go back) fires once, on its first occurrence.
 * - `rate(n minutes|hours|days)`: every n units (a day is 24 hours) from the schedule's start.
 * - `at(yyyy-mm-ddThh:mm:ss)`: once, at that wall-clock time in the time zone.
 */
import { Cron } from 'croner';
import { MdsError } from '../../lambdas/core/errors.ts';

export interface WorkflowSchedule {
  /** An EventBridge Scheduler expression: `cron(...)`, `rate(...)` or `at(...)`. */
  readonly expression: string;
  /** The IANA time zone the expression is evaluated in. */
  readonly timeZone: string;
  /** A paused schedule (`schedule.enabled: false`) fires nothing. */
  readonly enabled: boolean;
}

/** A schedule ready to say its fire times. */
export interface ScheduleEvaluator {
  readonly schedule: WorkflowSchedule;
  /** The first fire time strictly after `after`, or undefined when there is none (paused, or a past at()). */
  next(after: Date): Date | undefined;
}

const RATE_UNIT_MS: Readonly<Record<string, number>> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

/**
 * Parses a schedule. `start` anchors a rate() schedule (its first fire time, as the schedule's StartDate, or
 * the moment it was created, does in AWS).
 * @throws MdsError naming the expression and what is wrong with it
 */
export function evaluateSchedule(schedule: WorkflowSchedule, start: Date): ScheduleEvaluator {
  const expr = schedule.expression.trim();
  const rate = /^rate\((\d+)\s+(minutes?|hours?|days?)\)$/.exec(expr);
  if (rate) {
    const period = Number(rate[1]) * (RATE_UNIT_MS[rate[2] as string] as number);
    if (!(period > 0)) throw scheduleError(schedule, 'the rate must be a positive number');
    const anchor = start.getTime();
    return {
      schedule,
      next: (after) => {
        if (!schedule.enabled) return undefined;
        const k = after.getTime() < anchor ? 0 : Math.floor((after.getTime() - anchor) / period) + 1;
        return new Date(anchor + k * period);
      },
    };
  }
  const at = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/.exec(expr);
  if (at) {
    const [, y, mo, d, h, mi, s] = at.map(Number) as number[];
    return cronEvaluator(schedule, `${s} ${mi} ${h} ${d} ${mo} ? ${y}`);
  }
  const cron = /^cron\((.*)\)$/.exec(expr);
  if (!cron) throw scheduleError(schedule, 'expected cron(...), rate(...) or at(...)');
  const fields = (cron[1] as string).trim().split(/\s+/);
  if (fields.length !== 6) {
    throw scheduleError(
      schedule,
      `a cron expression has six fields (minutes hours day-of-month month day-of-week year), not ${fields.length}`,
    );
  }
  const [dayOfMonth, dayOfWeek] = [fields[2] as string, fields[4] as string];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    throw scheduleError(
      schedule,
      'exactly one of day-of-month and day-of-week must be ?, e.g. cron(5 * * * ? *) or cron(0 9 ? * MON-FRI *)',
    );
  }
  // AWS's "L" alone in day-of-week is the last day of the week, Saturday (7).
  if (dayOfWeek.toUpperCase() === 'L') fields[4] = '7';
  return cronEvaluator(schedule, `0 ${fields.join(' ')}`);
}

function cronEvaluator(schedule: WorkflowSchedule, pattern: string): ScheduleEvaluator {
  let cron: Cron;
  try {
    cron = new Cron(pattern, {
      timezone: schedule.timeZone,
      mode: '7-part',
      // AWS's day-of-week numbers (1 = SUN ... 7 = SAT), and since one of the two day fields is "?", AND.
      alternativeWeekdays: true,
      domAndDow: true,
      // AWS's "a/b" (from a, every b), e.g. 0/15 or 1/10.
      sloppyRanges: true,
      paused: true,
    });
  } catch (err) {
    throw scheduleError(schedule, err instanceof Error ? err.message : String(err));
  }
  return {
    schedule,
    next: (after) => {
      if (!schedule.enabled) return undefined;
      let t = cron.nextRun(after);
      // A time in the gap when clocks go forward is croner's "first valid time after the gap" (AWS skips it:
      // its wall-clock time no longer matches), and a repeated time comes twice (AWS fires once).
      for (let i = 0; t && i < 10_000; i += 1) {
        if (cron.match(t) && !isSecondOccurrence(t, schedule.timeZone)) return t;
        t = cron.nextRun(t);
      }
      return t ?? undefined;
    },
  };
}

/** Whether the wall-clock time of `t` in `timeZone` already happened earlier (clocks went back in between). */
function isSecondOccurrence(t: Date, timeZone: string): boolean {
  const earlier = new Date(t.getTime() - 3 * 3_600_000);
  const shift = utcOffsetMs(earlier, timeZone) - utcOffsetMs(t, timeZone);
  if (shift <= 0) return false;
  return wallClock(new Date(t.getTime() - shift), timeZone) === wallClock(t, timeZone);
}

function wallClock(t: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).format(t);
}

function utcOffsetMs(t: Date, timeZone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
      .formatToParts(t)
      .map((p) => [p.type, Number(p.value)]),
  ) as Record<string, number>;
  const wall = Date.UTC(
    parts.year as number,
    (parts.month as number) - 1,
    parts.day,
    parts.hour,
    parts.minute,
    parts.second,
  );
  return wall - Math.floor(t.getTime() / 1000) * 1000;
}

function scheduleError(schedule: WorkflowSchedule, problem: string): MdsError {
  return new MdsError(
    `schedule.expression ${JSON.stringify(schedule.expression)} (time zone ${schedule.timeZone}): ${problem}`,
  );
}

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/**
 * The workflow's schedule as the synthesized Pipeline stack holds it: the AWS::Scheduler::Schedule whose target
 * is the state machine. This is the environment's `schedule` setting (lib/config, with the `mds:<env>` context
 * overrides the synthesis applied), so an assembly given with --assembly runs on its own schedule.
 */
export function workflowScheduleOf(
  templates: ReadonlyMap<string, { readonly Resources: Record<string, TemplateResource> }>,
  pipelineStack: string,
): WorkflowSchedule {
  const resources = templates.get(pipelineStack)?.Resources ?? {};
  const machines = new Set(
    Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine')
      .map(([id]) => id),
  );
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::Scheduler::Schedule') continue;
    const target = (r.Properties?.Target as { Arn?: { Ref?: string } } | undefined)?.Arn?.Ref;
    if (!target || !machines.has(target)) continue;
    return {
      expression: String(r.Properties?.ScheduleExpression),
      timeZone: String(r.Properties?.ScheduleExpressionTimezone ?? 'UTC'),
      enabled: r.Properties?.State !== 'DISABLED',
    };
  }
  throw new MdsError(
    `the stack ${pipelineStack} has no EventBridge Scheduler schedule that starts the workflow`,
  );
}
