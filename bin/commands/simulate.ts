/**
 * `mds simulate`: writes simulated listening events as NDJSON (one record per line, in send order), with
 * optional duplicates, late events and invalid records, and a summary on stderr. Same flags, same output.
 */
import type { Command } from 'commander';
import { ConfigError, UsageError } from '../../lambdas/core/errors.ts';
import {
  DEFAULT_SONGS,
  DEFAULT_USERS,
  simulate,
  type SimulationSummary,
  type SimulatorOptions,
} from '../../lambdas/core/simulator/index.ts';
import {
  openOutput,
  parseDuration,
  parseFraction,
  parseInteger,
  parseIsoDate,
  parseNumber,
  printSummary,
  progressBar,
} from './cli-util.ts';
import { floorHour, HOUR_MS } from '../../lambdas/core/window.ts';

const DEFAULT_EVENTS = 10_000;
const DEFAULT_WINDOW_MS = 6 * HOUR_MS;
/** Below this many events a run takes well under a second: no progress bar. */
const PROGRESS_MIN_EVENTS = 200_000;
const PROGRESS_STEP = 10_000;

/** The simulator's flags, shared by every command that simulates events (simulate, produce, local up). */
export interface SimulationFlags {
  readonly events?: number;
  readonly rate?: number;
  readonly duration?: number;
  readonly seed: number;
  readonly users: number;
  readonly songs: number;
  readonly start?: Date;
  readonly end?: Date;
  readonly duplicateFraction: number;
  readonly lateFraction: number;
  readonly invalidFraction: number;
}

export interface SimulateFlags extends SimulationFlags {
  readonly out: string;
  readonly json?: boolean;
  readonly quiet?: boolean;
}

export interface SimulationDefaults {
  /** Records when neither --events nor --rate/--duration is given. */
  readonly events: number;
}

/** Adds the simulator's flags (--events, --rate, --duration, --seed, ..., the fault fractions) to a command. */
export function addSimulationOptions(
  command: Command,
  defaults: SimulationDefaults = { events: DEFAULT_EVENTS },
): Command {
  command
    .option('--events <n>', `total records, faults included (default ${defaults.events})`, (v) =>
      parseInteger(v, '--events'),
    )
    .option('--rate <r>', 'events per second, with --duration, instead of --events', (v) =>
      parseNumber(v, '--rate'),
    )
    .option(
      '--duration <d>',
      'window length like 90s, 10m, 2h or 1h30m, ending at --end; events = rate x duration',
      (v) => parseDuration(v, '--duration'),
    )
    .option(
      '--start <iso>',
      'event-time window start: ISO-8601 in UTC (Z) or with an offset, or a date (default: --end minus 6h)',
      (v) => parseIsoDate(v, '--start'),
    )
    .option(
      '--end <iso>',
      'event-time window end, exclusive, in the same form (default: start of the current hour)',
      (v) => parseIsoDate(v, '--end'),
    );
  return addPopulationOptions(command);
}

/** The simulator's population and fault flags, shared by every command that simulates (simulate, produce, local up). */
export function addPopulationOptions(command: Command): Command {
  return command
    .option('--seed <n>', 'seed of the random generator', (v) => parseInteger(v, '--seed'), 42)
    .option('--users <n>', 'simulated listeners', (v) => parseInteger(v, '--users', 1), DEFAULT_USERS)
    .option(
      '--songs <n>',
      'catalog size (artists ~ songs / 8)',
      (v) => parseInteger(v, '--songs', 1),
      DEFAULT_SONGS,
    )
    .option(
      '--duplicate-fraction <f>',
      'share of records that re-send an earlier event',
      (v) => parseFraction(v, '--duplicate-fraction'),
      0,
    )
    .option(
      '--late-fraction <f>',
      'share of records sent 1-6 h after their event time',
      (v) => parseFraction(v, '--late-fraction'),
      0,
    )
    .option(
      '--invalid-fraction <f>',
      'share of records that break the contract',
      (v) => parseFraction(v, '--invalid-fraction'),
      0,
    );
}

export function registerSimulate(program: Command): void {
  const command = program
    .command('simulate')
    .description(
      'Write simulated listening events as NDJSON; the same --seed and flags give byte-identical output.',
    );
  addSimulationOptions(command)
    .option('--out <file>', 'output file, or - for stdout (which then carries only the NDJSON)', '-')
    .option('--json', 'print the summary on stderr as one JSON object instead of a table')
    .option('--quiet', 'print no summary')
    .addHelpText(
      'after',
      `
Records come in send order (the Kafka timestamp); late ones and re-sent duplicates come after their event time.
Invalid records are malformed JSON, miss a field, have a wrong type, an unknown enum value or an oversize field.
The summary goes to stderr, with a progress bar for 200,000 records or more when stderr is a terminal.
Bad input stops the command with a one-line message naming the flag and exit code 2, before anything is written.

Examples:
  mds simulate --events 100000 --seed 7 --out events.ndjson
  mds simulate --rate 50 --duration 2h --end 2026-11-23T12:00:00Z --invalid-fraction 0.01 --late-fraction 0.02
`,
    )
    .action(async (flags: SimulateFlags) => {
      await runSimulate(flags, new Date());
    });
}

/**
 * Turns the flags into simulator options, checked: conflicting flags, an empty window or fractions that leave
 * nothing to duplicate fail here with a UsageError naming the flags. `now` decides the default window
 * (the six hours up to the start of the current hour).
 */
export function resolveSimulation(
  flags: SimulationFlags,
  now: Date,
  defaults: SimulationDefaults = { events: DEFAULT_EVENTS },
): SimulatorOptions {
  const byRate = flags.rate !== undefined || flags.duration !== undefined;
  if (byRate) {
    if (flags.rate === undefined || flags.duration === undefined) {
      throw new UsageError('--rate and --duration go together: events = rate x duration');
    }
    if (flags.events !== undefined) {
      throw new UsageError('--events conflicts with --rate/--duration: pass one or the other');
    }
    if (flags.start !== undefined) {
      throw new UsageError(
        '--start conflicts with --duration: the window is --duration long and ends at --end',
      );
    }
  }
  const end = flags.end ?? floorHour(now);
  const start = flags.start ?? new Date(end.getTime() - (flags.duration ?? DEFAULT_WINDOW_MS));
  if (start.getTime() >= end.getTime()) {
    throw new UsageError(`--end ${end.toISOString()} is not after --start ${start.toISOString()}`);
  }
  const events = byRate
    ? Math.round(((flags.rate as number) * (flags.duration as number)) / 1000)
    : (flags.events ?? defaults.events);
  if (!Number.isSafeInteger(events))
    throw new UsageError(`--rate x --duration gives ${events} events: too many`);
  return simulationOptions(flags, { events, start, end });
}

/**
 * The simulator's options from the population and fault flags and a resolved window, checked up front
 * (simulate() validates without generating anything); a bad value names the flag the user typed.
 */
export function simulationOptions(
  flags: Pick<
    SimulationFlags,
    'seed' | 'users' | 'songs' | 'duplicateFraction' | 'lateFraction' | 'invalidFraction'
  >,
  window: { readonly events: number; readonly start: Date; readonly end: Date },
): SimulatorOptions {
  const options: SimulatorOptions = {
    seed: flags.seed,
    ...window,
    users: flags.users,
    songs: flags.songs,
    duplicateFraction: flags.duplicateFraction,
    lateFraction: flags.lateFraction,
    invalidFraction: flags.invalidFraction,
  };
  try {
    simulate(options);
  } catch (err) {
    // The simulator names its option (duplicateFraction); the user typed a flag (--duplicate-fraction).
    if (err instanceof ConfigError) {
      const message = err.message.replace(/\b(duplicate|late|invalid)Fraction\b/g, '--$1-fraction');
      throw new UsageError(message, { cause: err });
    }
    throw err;
  }
  return options;
}

/** Runs `mds simulate`: NDJSON to --out, the summary to stderr. */
export async function runSimulate(flags: SimulateFlags, now: Date): Promise<void> {
  const options = resolveSimulation(flags, now);
  const run = simulate(options);
  const out = await openOutput(flags.out);
  const progress = progressBar({
    total: options.events,
    label: 'simulate',
    unit: 'records',
    minTotal: PROGRESS_MIN_EVENTS,
  });
  const started = performance.now();
  let written = 0;
  try {
    for (const record of run.records()) {
      if (out.line(record.value)) await out.drained();
      if (++written % PROGRESS_STEP === 0) progress.increment(PROGRESS_STEP);
    }
    await out.close();
  } catch (err) {
    // A reader that stops early (`| head`) is not an error of ours: stop quietly, as Unix tools do.
    if (flags.out === '-' && (err as NodeJS.ErrnoException).code === 'EPIPE') return;
    throw err;
  } finally {
    progress.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  if (!flags.quiet) report(run.summary(), flags, seconds);
}

function report(summary: SimulationSummary, flags: SimulateFlags, seconds: number): void {
  const rate = Math.round(summary.records / Math.max(seconds, 1e-3));
  if (flags.json) {
    process.stderr.write(
      `${JSON.stringify({ ...summary, seed: flags.seed, out: flags.out, seconds: Number(seconds.toFixed(3)), recordsPerSecond: rate })}\n`,
    );
    return;
  }
  const kinds = Object.entries(summary.invalidByKind)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => [`  ${kind}`, n] as const);
  printSummary(`simulated ${summary.window.start} .. ${summary.window.end} (seed ${flags.seed})`, [
    ['records', summary.records],
    ['valid', summary.valid],
    ['distinct events', summary.distinctEvents],
    ['duplicates', summary.duplicates],
    ['late', summary.late],
    ['invalid', summary.invalid],
    ...kinds,
    ['users', summary.users],
    ['songs', summary.songs],
    ['artists', summary.artists],
    ['records/s', rate],
    ['seconds', seconds.toFixed(2)],
  ]);
}
