/** Time windows of the hourly workflow: [start, end) on hour boundaries, in UTC. */
import { ARRIVALS_PREFIX, BRONZE_PREFIX, QUARANTINE_PREFIX, hourPartition } from './bronze.ts';
import type { RunWindow } from './run-summary.ts';

export const HOUR_MS = 3_600_000;

/** The start of every hour in [start, end). */
export function hoursOf(window: RunWindow): Date[] {
  const out: Date[] = [];
  const end = Date.parse(window.end);
  for (let t = Date.parse(window.start); t < end; t += HOUR_MS) out.push(new Date(t));
  return out;
}

/** The Bronze prefixes (`bronze/date=.../hour=.../`) of the hours of a window. */
export function bronzePrefixes(window: RunWindow): string[] {
  return hoursOf(window).map((h) => BRONZE_PREFIX + hourPartition(h));
}

export function quarantinePrefixes(window: RunWindow): string[] {
  return hoursOf(window).map((h) => QUARANTINE_PREFIX + hourPartition(h));
}

/** The arrival-marker prefixes (`arrivals/date=.../hour=.../`, landing time) of the hours of a window. */
export function arrivalPrefixes(window: RunWindow): string[] {
  return hoursOf(window).map((h) => ARRIVALS_PREFIX + hourPartition(h));
}

/** The hour that contains an instant. */
export function floorHour(instant: Date): Date {
  return new Date(Math.floor(instant.getTime() / HOUR_MS) * HOUR_MS);
}

/** An ISO instant as a timestamp literal every warehouse casts the same way ('YYYY-MM-DD HH:MM:SS.sss', UTC). */
export function sqlTimestamp(iso: string): string {
  return new Date(iso).toISOString().replace('T', ' ').replace('Z', '');
}
