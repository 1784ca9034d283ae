import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../lambdas/core/errors.ts';
import { floorHour } from '../../lambdas/core/window.ts';
import {
  LineWriter,
  formatTable,
  openOutput,
  parseDuration,
  parseFraction,
  parseInteger,
  parseIsoDate,
  parseNumber,
  progressBar,
} from '../../bin/commands/cli-util.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mds-cli-util-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function usageMessage(act: () => unknown): string {
  try {
    act();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('flag parsers', () => {
  it('parses whole numbers and names the flag when refusing one', () => {
    expect(parseInteger('42', '--events')).toBe(42);
    expect(parseInteger(' 0 ', '--events')).toBe(0);
    expect(usageMessage(() => parseInteger('1.5', '--events'))).toBe(
      '--events: expected a whole number, got "1.5"',
    );
    expect(usageMessage(() => parseInteger('1e3', '--events'))).toMatch(/whole number/);
    expect(usageMessage(() => parseInteger('', '--events'))).toMatch(/whole number/);
    expect(usageMessage(() => parseInteger('-1', '--events'))).toBe('--events: must be at least 0, got -1');
    expect(usageMessage(() => parseInteger('0', '--users', 1))).toBe('--users: must be at least 1, got 0');
    expect(usageMessage(() => parseInteger('99999999999999999999', '--seed'))).toMatch(/whole number/);
  });

  it('parses decimal numbers and fractions', () => {
    expect(parseNumber('2.5', '--rate')).toBe(2.5);
    expect(parseNumber('.5', '--rate')).toBe(0.5);
    expect(usageMessage(() => parseNumber('fast', '--rate'))).toBe('--rate: expected a number, got "fast"');
    expect(usageMessage(() => parseNumber('-2', '--rate'))).toMatch(/at least 0/);
    expect(parseFraction('0', '--f')).toBe(0);
    expect(parseFraction('0.01', '--f')).toBe(0.01);
    expect(parseFraction('1', '--f')).toBe(1);
    for (const bad of ['1.01', '-0.1', '5%', 'NaN', '']) {
      expect(usageMessage(() => parseFraction(bad, '--f'))).toMatch(
        /^--f: expected a fraction between 0 and 1/,
      );
    }
  });

  it('parses ISO-8601 instants in UTC or with an offset, and bare dates as UTC midnight', () => {
    expect(parseIsoDate('2026-11-23T08:00:00Z', '--end').toISOString()).toBe('2026-11-23T08:00:00.000Z');
    expect(parseIsoDate('2026-11-23T09:30:00.250+01:00', '--end').toISOString()).toBe(
      '2026-11-23T08:30:00.250Z',
    );
    expect(parseIsoDate('2026-11-23', '--end').toISOString()).toBe('2026-11-23T00:00:00.000Z');
    for (const bad of ['2026-11-23T08:00', 'yesterday', '2026-13-01T00:00:00Z', '1732345200000']) {
      expect(usageMessage(() => parseIsoDate(bad, '--end'))).toMatch(
        /^--end: expected an ISO-8601 date-time/,
      );
    }
  });

  it('parses durations with units, alone or combined', () => {
    expect(parseDuration('90s', '--d')).toBe(90_000);
    expect(parseDuration('10m', '--d')).toBe(600_000);
    expect(parseDuration('2h', '--d')).toBe(7_200_000);
    expect(parseDuration('1h30m', '--d')).toBe(5_400_000);
    expect(parseDuration('1d', '--d')).toBe(86_400_000);
    expect(parseDuration('250ms', '--d')).toBe(250);
    expect(parseDuration('1.5h', '--d')).toBe(5_400_000);
    for (const bad of ['10', '0s', '10 minutes', 'h', '5m garbage', '-5m']) {
      expect(usageMessage(() => parseDuration(bad, '--d'))).toMatch(/^--d: expected a duration like 90s/);
    }
  });

  it('finds the start of the UTC hour (the default END of simulate and produce)', () => {
    expect(floorHour(new Date('2026-11-23T08:59:59.999Z')).toISOString()).toBe('2026-11-23T08:00:00.000Z');
  });
});

describe('output helpers', () => {
  it('aligns a summary table, with thousands separators', () => {
    // Act
    const table = formatTable([
      ['records', 1234567],
      ['window', '6h'],
    ]);
    // Assess
    expect(table).toBe('records  1,234,567\nwindow          6h');
  });

  it('draws no progress bar when the stream is not a terminal', () => {
    // Prepare
    const stream = new PassThrough() as unknown as NodeJS.WriteStream;
    const written: Buffer[] = [];
    (stream as unknown as PassThrough).on('data', (c: Buffer) => written.push(c));
    // Act
    const bar = progressBar({ total: 1_000_000, label: 'test', stream });
    bar.increment(500_000);
    bar.stop();
    // Assess
    expect(Buffer.concat(written).length).toBe(0);
  });

  it('writes lines in large chunks and signals backpressure from a slow stream', async () => {
    // Prepare: a stream that accepts one chunk per tick and holds at most 16 KiB.
    const chunks: string[] = [];
    const slow = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString());
        setImmediate(done);
      },
    });
    const writer = new LineWriter(slow, true, 8 * 1024);
    let waits = 0;
    // Act
    for (let i = 0; i < 20_000; i++) {
      if (writer.line(`line ${i}`)) {
        waits++;
        await writer.drained();
      }
    }
    await writer.close();
    // Assess
    const text = chunks.join('');
    expect(text.split('\n')).toHaveLength(20_001);
    expect(text.startsWith('line 0\nline 1\n')).toBe(true);
    expect(text.endsWith('line 19999\n')).toBe(true);
    expect(chunks.length).toBeLessThan(100);
    expect(waits).toBeGreaterThan(0);
    expect(slow.writableFinished).toBe(true);
  });

  it('reports a failing stream on the next line instead of losing data silently', async () => {
    // Prepare
    const broken = new Writable({
      write(_chunk, _enc, done) {
        done(Object.assign(new Error('disk full'), { code: 'ENOSPC' }));
      },
    });
    const writer = new LineWriter(broken, true, 4);
    // Act
    writer.line('first line');
    await new Promise((resolve) => setImmediate(resolve));
    // Assess
    expect(() => writer.line('second line')).toThrow('disk full');
    await expect(writer.close()).rejects.toThrow('disk full');
  });

  it('opens a file for --out and writes it whole', async () => {
    // Prepare
    const file = path.join(dir, 'out.ndjson');
    // Act
    const writer = await openOutput(file);
    writer.line('{"a":1}');
    writer.line('{"a":2}');
    await writer.close();
    // Assess
    expect(await readFile(file, 'utf8')).toBe('{"a":1}\n{"a":2}\n');
  });

  it('refuses an --out it cannot write with a message naming the flag, the path and the reason', async () => {
    await expect(openOutput(path.join(dir, 'missing', 'x.ndjson'))).rejects.toThrow(
      /^--out: cannot write ".*x\.ndjson": its directory does not exist$/,
    );
    await expect(openOutput(dir, '--report')).rejects.toThrow(
      /^--report: cannot write ".*": it is a directory$/,
    );
  });
});
