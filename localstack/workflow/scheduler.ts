/**
 * Runs the workflow on its schedule while `mds local up` serves: waits for each fire time of the schedule and
 * hands it over as the `scheduledTime` EventBridge Scheduler would send. The clock is injected, so a test drives
 * the loop through its fire times without waiting.
 */
import type { ScheduleEvaluator } from './schedule.ts';

export interface SchedulerClock {
  now(): number;
  /** Resolves at `time` (epoch ms), or early when `signal` aborts. */
  sleepUntil(time: number, signal: AbortSignal): Promise<void>;
}

/** The machine's clock. Waits in steps of at most a day, as a timer cannot wait much longer than 24 days. */
export const systemClock: SchedulerClock = {
  now: () => Date.now(),
  sleepUntil: (time, signal) =>
    new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const arm = () => {
        const left = time - Date.now();
        if (left <= 0 || signal.aborted) return done();
        timer = setTimeout(arm, Math.min(left, 86_400_000));
      };
      signal.addEventListener('abort', done);
      arm();
    }),
};

export interface SchedulerOptions {
  readonly schedule: ScheduleEvaluator;
  readonly clock: SchedulerClock;
  readonly signal: AbortSignal;
  /** One scheduled run; the next fire time is awaited only after it settles. */
  readonly fire: (scheduledTime: Date) => Promise<void>;
  /** Fire times that passed while a run was still going (they are skipped, not run late). */
  readonly skipped?: (first: Date, count: number) => void;
}

/** Fires until `signal` aborts. A paused schedule, or one with no fire time left, just waits for that. */
export async function runOnSchedule(options: SchedulerOptions): Promise<void> {
  const { schedule, clock, signal } = options;
  let after = new Date(clock.now() - 1);
  while (!signal.aborted) {
    const next = schedule.next(after);
    if (!next) {
      await clock.sleepUntil(Number.POSITIVE_INFINITY, signal);
      return;
    }
    await clock.sleepUntil(next.getTime(), signal);
    if (signal.aborted) return;
    await options.fire(next);
    after = next;
    const now = clock.now();
    let missed = schedule.next(after);
    if (missed && missed.getTime() <= now) {
      const first = missed;
      let count = 0;
      while (missed && missed.getTime() <= now && count < 100_000) {
        count += 1;
        after = missed;
        missed = schedule.next(after);
      }
      options.skipped?.(first, count);
    }
  }
}

/** A schedule that can change while the loop runs (the local Scheduler's ScheduleStore). */
export interface ChangingSchedule {
  /** The schedule now, ready to evaluate. */
  current(): ScheduleEvaluator;
  /** Calls `listener` on every change; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}

/**
 * runOnSchedule over a schedule that can be paused, resumed or given another expression (UpdateSchedule):
 * each change ends the wait and the loop starts again on the changed schedule, so a pause takes effect before
 * the next fire time and a paused schedule fires nothing until it is resumed.
 */
export async function runStoredSchedule(
  options: Omit<SchedulerOptions, 'schedule'> & { readonly schedule: ChangingSchedule },
): Promise<void> {
  const { signal } = options;
  while (!signal.aborted) {
    const round = new AbortController();
    const end = () => round.abort();
    signal.addEventListener('abort', end, { once: true });
    const unsubscribe = options.schedule.onChange(end);
    try {
      await runOnSchedule({ ...options, schedule: options.schedule.current(), signal: round.signal });
    } finally {
      unsubscribe();
      signal.removeEventListener('abort', end);
    }
  }
}
