/**
 * `mds run --window START/END`: the flag's form is the CLI's to read; whether the window can run is the
 * planner's (lambdas/planner/plan.ts, through preflight.ts), so its rules live in one place.
 */
import { UsageError } from '../../../lambdas/core/errors.ts';
import type { RunWindow } from '../../../lambdas/core/run-summary.ts';
import { assertPlannableWindow } from '../preflight.ts';

/**
 * The window of `--window START/END` as PlanWindow plans it: instants with a zone, on the hour, the end after
 * the start and not in the future, at most `maxWindowDays` long. Messages name START, END and --window.
 */
export function parseWindow(value: string, now: Date, maxWindowDays = Number.POSITIVE_INFINITY): RunWindow {
  const parts = value.split('/');
  if (parts.length !== 2) {
    throw new UsageError(
      `--window ${JSON.stringify(value)}: expected START/END, e.g. 2026-11-23T08:00:00Z/2026-11-23T10:00:00Z`,
    );
  }
  const [start, end] = parts as [string, string];
  return assertPlannableWindow(
    { start, end },
    now,
    { start: 'START', end: 'END', flag: '--window' },
    maxWindowDays,
  );
}
