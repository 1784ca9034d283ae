/**
 * Helpers every `mds` command shares: flag parsers that fail with a one-line UsageError naming the flag,
 * a progress bar that stays silent unless stderr is a terminal, a summary table, and a buffered line writer
 * for `--out FILE|-` with backpressure.
 */
import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import { UsageError, errorMessage } from '../../lambdas/core/errors.ts';
import { HOUR_MS } from '../../lambdas/core/window.ts';

/** An integer >= `min` (default 0); rejects "1.5", "1e3", "", "12abc". */
export function parseInteger(value: string, flag: string, min = 0): number {
  const n = /^[+-]?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`${flag}: expected a whole number, got "${value}"`);
  if (n < min) throw new UsageError(`${flag}: must be at least ${min}, got ${n}`);
  return n;
}

/** A TCP port: 1 to 65535, or 0 for a free one picked at start. */
export function parsePort(value: string, flag: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(Number.isSafeInteger(n) && n >= 0 && n <= 65_535)) {
    throw new UsageError(`${flag}: expected a port from 1 to 65535 (or 0 for a free one), got "${value}"`);
  }
  return n;
}

/** A finite decimal number >= `min` (default 0), such as a rate. */
export function parseNumber(value: string, flag: string, min = 0): number {
  const n = /^[+-]?(\d+\.?\d*|\.\d+)$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n)) throw new UsageError(`${flag}: expected a number, got "${value}"`);
  if (n < min) throw new UsageError(`${flag}: must be at least ${min}, got ${n}`);
  return n;
}

/** A fraction in [0, 1], such as 0.01 (1 %). */
export function parseFraction(value: string, flag: string): number {
  const n = /^(\d+\.?\d*|\.\d+)$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(n >= 0 && n <= 1))
    throw new UsageError(`${flag}: expected a fraction between 0 and 1, got "${value}"`);
  return n;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;

/**
 * An ISO-8601 instant: `2026-11-23T08:00:00Z`, with an offset, or a bare date (midnight UTC).
 * A time without a zone is refused: it would silently depend on the machine's time zone.
 */
export function parseIsoDate(value: string, flag: string): Date {
  const v = value.trim();
  const date = ISO_DATE.test(v) ? new Date(v) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) {
    throw new UsageError(
      `${flag}: expected an ISO-8601 date-time in UTC or with an offset (like 2026-11-23T08:00:00Z), got "${value}"`,
    );
  }
  return date;
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: HOUR_MS,
  d: 24 * HOUR_MS,
};

/** A duration like `90s`, `10m`, `2h`, `1d`, `500ms` or `1h30m`, in milliseconds (> 0). */
export function parseDuration(value: string, flag: string): number {
  const v = value.trim();
  const parts = [...v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * (DURATION_UNITS[p[2] as string] as number), 0);
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== v || !(ms > 0)) {
    throw new UsageError(`${flag}: expected a duration like 90s, 10m, 2h or 1h30m, got "${value}"`);
  }
  return Math.round(ms);
}

export interface Progress {
  increment(by: number): void;
  stop(): void;
}

/**
 * A progress bar on stderr for long runs. It draws nothing (and costs nothing) when stderr is not a terminal,
 * so piped or captured output stays clean, or when `total` is below `minTotal`.
 */
export function progressBar(options: {
  readonly total: number;
  readonly label: string;
  readonly unit?: string;
  readonly minTotal?: number;
  readonly stream?: NodeJS.WriteStream;
}): Progress {
  const stream = options.stream ?? process.stderr;
  if (!stream.isTTY || options.total < (options.minTotal ?? 0))
    return { increment: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${options.label} [{bar}] {percentage}% | {value}/{total} ${options.unit ?? ''} | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(options.total, 0);
  return { increment: (by) => bar.increment(by), stop: () => bar.stop() };
}

/** Two aligned columns: labels left, values right-aligned; numbers get thousands separators. */
export function formatTable(rows: readonly (readonly [string, string | number])[]): string {
  const cells = rows.map(([label, value]) => [
    label,
    typeof value === 'number' ? value.toLocaleString('en-US') : value,
  ]);
  const labelWidth = Math.max(...cells.map((c) => (c[0] as string).length));
  const valueWidth = Math.max(...cells.map((c) => (c[1] as string).length));
  return cells
    .map(([l, v]) => `${(l as string).padEnd(labelWidth)}  ${(v as string).padStart(valueWidth)}`)
    .join('\n');
}

/** Prints a titled summary table on stderr (stdout may carry data). */
export function printSummary(
  title: string,
  rows: readonly (readonly [string, string | number])[],
  stream: NodeJS.WritableStream = process.stderr,
): void {
  stream.write(`${title}\n${formatTable(rows)}\n`);
}

/**
 * Writes lines to a stream in large chunks: one write per ~64 KiB instead of one per line, and backpressure
 * through `line()` returning true when the caller should `await drained()`.
 */
export class LineWriter {
  private buffer = '';
  private failure: Error | undefined;

  constructor(
    private readonly stream: Writable | NodeJS.WritableStream,
    private readonly ownsStream: boolean,
    private readonly chunkSize = 1 << 16,
  ) {
    stream.on('error', (err: Error) => {
      this.failure ??= err;
    });
  }

  /** Adds one line (a newline is appended); true means the stream is full: await drained() before more. */
  line(text: string): boolean {
    this.buffer += text + '\n';
    if (this.buffer.length < this.chunkSize) return false;
    return this.flush();
  }

  /** The first error the stream reported, if any. */
  get error(): Error | undefined {
    return this.failure;
  }

  async drained(): Promise<void> {
    if (this.failure) throw this.failure;
    if (!(this.stream as Writable).writableNeedDrain) return;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        this.stream.off('drain', done);
        this.stream.off('error', done);
        if (err) reject(err);
        else resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('error', done);
    });
  }

  /** Writes what is buffered; ends the stream if it was opened for this writer (never stdout). */
  async close(): Promise<void> {
    this.flush();
    await this.drained();
    if (!this.ownsStream) return;
    await new Promise<void>((resolve, reject) => {
      this.stream.once('error', reject);
      this.stream.end(() => resolve());
    });
    if (this.failure) throw this.failure;
  }

  private flush(): boolean {
    if (this.failure) throw this.failure;
    if (this.buffer.length === 0) return false;
    const chunk = this.buffer;
    this.buffer = '';
    return !this.stream.write(chunk);
  }
}

/**
 * Opens `--out FILE|-` for writing: `-` is stdout. The file is opened before any work starts, so a missing
 * directory or a read-only path fails at once with a one-line UsageError instead of after a long run.
 */
export async function openOutput(target: string, flag = '--out'): Promise<LineWriter> {
  if (target === '-') return new LineWriter(process.stdout, false);
  try {
    const handle = await open(target, 'w');
    return new LineWriter(handle.createWriteStream({ highWaterMark: 1 << 16 }), true);
  } catch (err) {
    throw new UsageError(`${flag}: cannot write "${target}": ${describeFsError(err)}`, { cause: err });
  }
}

function describeFsError(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'its directory does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOTDIR':
      return 'a parent in the path is not a directory';
    default:
      return errorMessage(err);
  }
}

/**
 * kafkajs logs every failed connection attempt and retry (with a stack) before the request fails; the command
 * then reports the failure itself on one line. These lines are shown only with MDS_DEBUG set.
 */
export function kafkaChatter(line: string): boolean {
  return line.startsWith('kafkajs ') && !process.env.MDS_DEBUG;
}

/** A kafkajs logger for the CLI: kafkajs's own lines only with MDS_DEBUG, as plain lines on stderr. */
export const cliKafkaLogger = {
  warn: (message: string): void => {
    if (!kafkaChatter(message)) process.stderr.write(`${message}\n`);
  },
  error: (message: string): void => {
    if (!kafkaChatter(message)) process.stderr.write(`${message}\n`);
  },
};
