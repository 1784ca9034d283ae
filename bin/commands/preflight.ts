/**
 * Checks `mds local up` and `mds run` make before anything starts, so that bad input is refused before a single
 * event is produced or a file written: the window as the workflow's PlanWindow step will judge it (the
 * planner's own validation, not a copy of its rules) and the dashboard port.
 */
import { UsageError, ValidationError } from '../../lambdas/core/errors.ts';
import type { RunWindow } from '../../lambdas/core/run-summary.ts';
import { planWindow } from '../../lambdas/planner/plan.ts';
import { assertPortFree } from '../../localstack/s3-server.ts';

export interface WindowNames {
  /** How the user set the window's start and end, e.g. `--start` / `--end`. */
  readonly start: string;
  readonly end: string;
  /** The flag that holds both, named first in the message (e.g. `--window`). */
  readonly flag?: string;
}

/**
 * The window as PlanWindow plans it, or its refusal: not an instant with a zone (given as text), off the hour, not after its start, in the future (which, on whole
 * hours, includes one ending inside the current hour), or longer than `maxWindowDays`. The planner's message
 * is kept, with its field names replaced by the flags the user typed.
 */
export function assertPlannableWindow(
  window: { readonly start: Date | string; readonly end: Date | string },
  now: Date,
  names: WindowNames,
  maxWindowDays = Number.POSITIVE_INFINITY,
): RunWindow {
  const text = (t: Date | string) => (typeof t === 'string' ? t : t.toISOString());
  try {
    return planWindow({ input: { window: { start: text(window.start), end: text(window.end) } } }, now, {
      maxWindowDays,
      lookbackHours: 0,
    }).window;
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const message = err.message
      .replace(/\bwindow\.start\b/g, names.start)
      .replace(/\bwindow\.end\b/g, names.end);
    const flag = names.flag ? `${names.flag}: ` : '';
    throw new UsageError(`${flag}${message} The workflow's PlanWindow step would refuse this window.`, {
      cause: err,
    });
  }
}

/** A port the dashboard will listen on is free now (0 picks a free one at start). */
export async function assertDashboardPortFree(port: number): Promise<void> {
  if (port !== 0) await assertPortFree(port, 'the dashboard (--dashboard-port)');
}
