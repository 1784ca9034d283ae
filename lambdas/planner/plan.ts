/**
 * Planning the window of a workflow run (the PlanWindow state). Pure: the clock comes in as `now`.
 *
 * Input of an execution:
 *   {}                                    the hour before now
 *   {"scheduledTime": "<ISO>"}            the hour before the scheduled time (EventBridge Scheduler)
 *   {"window": {"start": ISO, "end": ISO}} any whole hours, for a backfill or a re-run
 */
import { randomUUID } from 'node:crypto';
import { ValidationError } from '../core/errors.ts';
import type { RunWindow } from '../core/run-summary.ts';
import { floorHour, HOUR_MS } from '../core/window.ts';

export interface PlanEvent {
  /** The execution's input, as passed by Step Functions. */
  readonly input?: unknown;
  /** `$$.Execution.Name`: part of the run id so a run is easy to find in the console. */
  readonly executionName?: string;
}

export interface PlanOptions {
  /** The longest window a backfill may ask for. */
  readonly maxWindowDays: number;
  /** Hours before the window whose late-arriving Bronze objects the loader also considers. */
  readonly lookbackHours: number;
}

export interface RunPlan {
  /** `<window start, compact>-<execution name or a uuid>`, e.g. `20261123T1000Z-3f1c...`. */
  readonly runId: string;
  readonly window: RunWindow;
  readonly lookbackHours: number;
}

export function planWindow(event: PlanEvent, now: Date, options: PlanOptions): RunPlan {
  const input = event.input ?? {};
  if (!isObject(input))
    throw new ValidationError(`The execution input must be a JSON object, not ${JSON.stringify(input)}.`);
  let start: Date;
  let end: Date;
  if (input.window !== undefined) {
    if (!isObject(input.window)) {
      throw new ValidationError('window must be an object {"start": ISO-8601, "end": ISO-8601}.');
    }
    start = parseInstant(input.window.start, 'window.start');
    end = parseInstant(input.window.end, 'window.end');
    for (const [name, t] of [
      ['window.start', start],
      ['window.end', end],
    ] as const) {
      if (t.getTime() % HOUR_MS !== 0) {
        throw new ValidationError(
          `${name} ${t.toISOString()} is not on an hour boundary; use e.g. ${floorHour(t).toISOString()}.`,
        );
      }
    }
    if (end.getTime() <= start.getTime()) {
      throw new ValidationError(
        `window.end ${end.toISOString()} must be after window.start ${start.toISOString()}.`,
      );
    }
    if (end.getTime() > now.getTime()) {
      throw new ValidationError(
        `window.end ${end.toISOString()} is in the future (now is ${now.toISOString()}); use ${floorHour(now).toISOString()} or earlier.`,
      );
    }
    const maxMs = options.maxWindowDays * 24 * HOUR_MS;
    if (end.getTime() - start.getTime() > maxMs) {
      throw new ValidationError(
        `The window spans ${(end.getTime() - start.getTime()) / HOUR_MS} hours; at most ${options.maxWindowDays} days (${maxMs / HOUR_MS} hours) are allowed. Split the backfill into several runs.`,
      );
    }
  } else {
    const base = input.scheduledTime === undefined ? now : parseInstant(input.scheduledTime, 'scheduledTime');
    end = floorHour(base);
    start = new Date(end.getTime() - HOUR_MS);
  }
  const window = { start: start.toISOString(), end: end.toISOString() };
  const suffix = event.executionName && event.executionName.length > 0 ? event.executionName : randomUUID();
  return { runId: `${compact(start)}-${suffix}`, window, lookbackHours: options.lookbackHours };
}

/** 2026-11-23T10:00:00.000Z -> 20261123T1000Z */
export function compact(instant: Date): string {
  const iso = instant.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}Z`;
}

function parseInstant(value: unknown, name: string): Date {
  // Require an explicit zone so "10:00" never means a laptop's local time.
  if (
    typeof value !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)
  ) {
    throw new ValidationError(
      `${name} must be an ISO-8601 instant with a zone, e.g. 2026-01-31T10:00:00Z; got ${JSON.stringify(value)}.`,
    );
  }
  const t = new Date(value);
  if (Number.isNaN(t.getTime()))
    throw new ValidationError(`${name} ${JSON.stringify(value)} is not a valid date.`);
  return t;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
