import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateEvent } from '../../lambdas/core/contract.ts';

const run = promisify(execFile);
const MDS = path.resolve('bin/mds.mjs');
const END = '2026-11-23T12:00:00Z';

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real CLI in a child process, as a user would. */
async function mds(...args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MDS, ...args], { maxBuffer: 256 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A one-line `mds: ...` message and no stack trace. */
function expectUsageError(result: Result, pattern: RegExp): void {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^mds: /);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mds-simulate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('mds simulate', () => {
  it('writes byte-identical NDJSON for the same seed, to stdout and to a file', async () => {
    // Prepare
    const args = ['simulate', '--events', '3000', '--seed', '7', '--end', END, '--invalid-fraction', '0.02'];
    const file = path.join(dir, 'events.ndjson');
    // Act
    const [a, b, toFile, otherSeed] = await Promise.all([
      mds(...args),
      mds(...args),
      mds(...args, '--out', file),
      mds(...args.map((x) => (x === '7' ? '8' : x))),
    ]);
    // Assess
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout.split('\n'), a.stderr).toHaveLength(3001); // 3000 lines, each ending in a newline
    expect(b.stdout).toBe(a.stdout);
    expect(await readFile(file, 'utf8')).toBe(a.stdout);
    expect(toFile.stdout).toBe('');
    expect(otherSeed.stdout).not.toBe(a.stdout);
  });

  it('keeps stdout pure NDJSON of valid events and prints the summary on stderr', async () => {
    // Act
    const result = await mds('simulate', '--events', '500', '--end', END, '--users', '20');
    // Assess
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(500);
    for (const line of lines) expect(validateEvent(JSON.parse(line)).ok).toBe(true);
    expect(result.stderr).toMatch(/^records\s+500$/m);
    expect(result.stderr).toMatch(/^users\s+20$/m);
    expect(result.stderr).toMatch(/2026-11-23T06:00:00.000Z .. 2026-11-23T12:00:00.000Z/);
  });

  it('prints the summary as JSON with --json, counting the injected faults', async () => {
    // Act
    const result = await mds(
      ...['simulate', '--events', '2000', '--end', END, '--out', path.join(dir, 'faults.ndjson'), '--json'],
      ...['--duplicate-fraction', '0.05', '--late-fraction', '0.05', '--invalid-fraction', '0.1'],
    );
    // Assess
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stderr) as Record<string, unknown>;
    expect(summary).toMatchObject({ records: 2000, duplicates: 100, late: 100, invalid: 200, valid: 1800 });
    expect(summary.invalidByKind).toEqual({
      malformed_json: 40,
      missing_field: 40,
      wrong_type: 40,
      unknown_enum: 40,
      oversize: 40,
    });
  });

  it('spreads --rate x --duration events over a window of that length ending at --end', async () => {
    // Act
    const result = await mds('simulate', '--rate', '2.5', '--duration', '10m', '--end', END, '--quiet');
    // Assess
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const times = result.stdout
      .trimEnd()
      .split('\n')
      .map((l) => Date.parse((JSON.parse(l) as { timestamp: string }).timestamp));
    expect(times).toHaveLength(1500);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(Date.parse(END) - 600_000);
    expect(Math.max(...times)).toBeLessThan(Date.parse(END));
  });

  it('documents its flags with --help', async () => {
    // Act
    const result = await mds('simulate', '--help');
    // Assess
    expect(result.code).toBe(0);
    for (const flag of [
      '--events',
      '--rate',
      '--duration',
      '--seed',
      '--users',
      '--start',
      '--end',
      '--out',
      '--json',
    ]) {
      expect(result.stdout).toContain(flag);
    }
    for (const flag of ['--duplicate-fraction', '--late-fraction', '--invalid-fraction']) {
      expect(result.stdout).toContain(flag);
    }
  });

  it.concurrent.each([
    ['an unknown flag', ['--bogus'], /unknown option '--bogus'/],
    ['a negative count', ['--events', '-5'], /--events: must be at least 0/],
    ['a count that is not a number', ['--users', 'many'], /--users: expected a whole number, got "many"/],
    ['no users', ['--users', '0'], /--users: must be at least 1/],
    [
      'end before start',
      ['--start', '2026-11-23T12:00:00Z', '--end', '2026-11-23T10:00:00Z'],
      /--end .* is not after --start/,
    ],
    ['a date without a zone', ['--end', '2026-11-23T12:00'], /--end: expected an ISO-8601 date-time/],
    [
      'a fraction above 1',
      ['--late-fraction', '1.5'],
      /--late-fraction: expected a fraction between 0 and 1/,
    ],
    [
      'fractions that leave nothing to copy',
      ['--events', '10', '--duplicate-fraction', '0.9'],
      /--duplicate-fraction/,
    ],
    ['--rate without --duration', ['--rate', '10'], /--rate and --duration go together/],
    ['--events with --rate', ['--events', '5', '--rate', '1', '--duration', '1m'], /--events conflicts/],
    [
      'a bad duration',
      ['--rate', '1', '--duration', '10 minutes'],
      /--duration: expected a duration like 90s/,
    ],
    ['an extra argument', ['now'], /too many arguments/],
  ])('refuses %s with a one-line message and exit code 2', async (_name, args, pattern) => {
    // Act
    const result = await mds('simulate', ...args);
    // Assess
    expectUsageError(result, pattern);
  });

  it.concurrent.each([
    ['a missing directory', () => path.join(dir, 'no-such-dir', 'x.ndjson'), /its directory does not exist/],
    ['a directory', () => dir, /it is a directory/],
  ])('refuses an unwritable --out (%s) before generating anything', async (_name, out, pattern) => {
    // Act
    const result = await mds('simulate', '--out', out());
    // Assess
    expectUsageError(result, /--out: cannot write/);
    expect(result.stderr).toMatch(pattern);
  });
});
