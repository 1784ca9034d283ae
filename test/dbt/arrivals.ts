/**
 * Arrival orders for the simulated events: the Bronze rows of bronzeRows() split into a few loads (each load
 * is followed by a dbt build), as the pipeline meets them: events held back to a later load than their send
 * hour's (arriving hours or days after their event time), the simulator's duplicates and late sends, better
 * copies of an event (same event_id, a lower Kafka position) arriving in a later load than the first copy,
 * and a load that repeats an older one.
 */
import { Prng } from '../../lambdas/core/simulator/prng.ts';
import { bronzeRows, type BronzeRow } from './dataset.ts';

const HOUR = 3_600_000;

export interface ArrivalOptions {
  readonly seed: number;
  readonly events: number;
  /** Days of event time, from 2026-04-01. */
  readonly days: number;
  readonly users: number;
  readonly songs: number;
  /** How many loads carry the events (2 or more). */
  readonly loads: number;
  /** Fraction of the rows held back to a later load than the one of their send time. */
  readonly heldBackFraction: number;
  /**
   * How many events arrive first as a worse copy (a Kafka offset past every real one) and later, in a later
   * load, as the better copy (their real position), which must replace the worse one.
   */
  readonly betterCopies: number;
  /**
   * A load that repeats load `of` again right after load `after` (after >= of): with the rows' own load time
   * (the same files committed again), or with the load time of load `after` (a re-run reading old files).
   */
  readonly repeat?: { readonly of: number; readonly after: number; readonly sameLoadTime: boolean };
}

export interface Load {
  /** What the load is, for failure messages. */
  readonly note: string;
  readonly rows: readonly BronzeRow[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The loads, in the order they are inserted into Bronze (each row's loaded_at its load's time), and a summary. */
export function arrivals(options: ArrivalOptions): { summary: string; loads: Load[] } {
  const start = Date.parse('2026-04-01T00:00:00Z');
  const { rows } = bronzeRows({
    seed: options.seed,
    events: options.events,
    start: new Date(start),
    end: new Date(start + options.days * 24 * HOUR),
    users: options.users,
    songs: options.songs,
    duplicateFraction: 0.05,
    lateFraction: 0.1,
    invalidFraction: 0,
  });
  // The simulator's seeded generator, on a stream of its own: one seed gives one arrival order.
  const prng = new Prng(options.seed, 0x5eed);
  const rand = (): number => prng.float();
  const pick = (n: number): number => Math.floor(rand() * n);
  const count = Math.max(2, Math.min(options.loads, rows.length));

  // Contiguous segments of the send order, cut at random rows; a load runs at the end of its last send hour.
  const cuts = new Set<number>();
  while (cuts.size < count - 1) cuts.add(1 + pick(rows.length - 1));
  const bounds = [0, ...[...cuts].sort((a, b) => a - b), rows.length];
  const times: number[] = [];
  for (let k = 0; k < count; k++) {
    const last = rows[(bounds[k + 1] as number) - 1] as BronzeRow;
    const time = Date.parse(last.loaded_at);
    times.push(Math.max(time, k > 0 ? (times[k - 1] as number) + HOUR : time));
  }
  const batches: BronzeRow[][] = times.map(() => []);
  const at = (row: BronzeRow, k: number): BronzeRow => ({ ...row, loaded_at: iso(times[k] as number) });
  const laterLoad = (k: number): number => k + 1 + pick(count - 1 - k);

  let held = 0;
  let better = 0;
  const copied = new Set<string>();
  for (let k = 0; k < count; k++) {
    for (let i = bounds[k] as number; i < (bounds[k + 1] as number); i++) {
      const row = rows[i] as BronzeRow;
      if (k < count - 1 && better < options.betterCopies && !copied.has(row.event_id) && rand() < 0.05) {
        copied.add(row.event_id);
        better += 1;
        const worse = {
          ...row,
          kafka_offset: row.kafka_offset + 1_000_000,
          source_file: `${row.source_file}.resent`,
        };
        batches[k]!.push(at(worse, k));
        const j = laterLoad(k);
        batches[j]!.push(at(row, j));
      } else if (k < count - 1 && rand() < options.heldBackFraction) {
        held += 1;
        const j = laterLoad(k);
        batches[j]!.push(at(row, j));
      } else {
        batches[k]!.push(at(row, k));
      }
    }
  }

  const loads: Load[] = batches.map((batch, k) => ({
    note: `load ${k} at ${iso(times[k] as number)}: ${batch.length} rows`,
    rows: batch,
  }));
  const repeat = options.repeat;
  if (repeat && repeat.of < count) {
    const after = Math.min(Math.max(repeat.after, repeat.of), count - 1);
    const again = repeat.sameLoadTime
      ? (batches[repeat.of] as BronzeRow[])
      : (batches[repeat.of] as BronzeRow[]).map((r) => at(r, after));
    loads.splice(after + 1, 0, {
      note: `load ${repeat.of} again after load ${after}, ${repeat.sameLoadTime ? 'same load time' : `loaded at ${iso(times[after] as number)}`}`,
      rows: again,
    });
  }
  return {
    summary: `${rows.length} rows, ${held} held back to a later load, ${better} better copies arriving later`,
    loads,
  };
}
