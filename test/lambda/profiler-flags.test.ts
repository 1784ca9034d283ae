/**
 * profilerFlags: a Lambda execution environment gets the process's profiler flags (a worker given its own
 * execArgv inherits none), with the value of a flag given as the next argument, and nothing else.
 */
import { describe, expect, it } from 'vitest';
import { profilerFlags } from '../../localstack/lambda/runtime.ts';

describe('profilerFlags', () => {
  it('keeps the CPU and heap profiler flags and their values', () => {
    expect(
      profilerFlags([
        '--heap-growing-percent=50',
        '--cpu-prof',
        '--cpu-prof-dir',
        '/tmp/prof',
        '--cpu-prof-interval=500',
        '--import',
        'tsx',
        '--heap-prof',
      ]),
    ).toEqual(['--cpu-prof', '--cpu-prof-dir', '/tmp/prof', '--cpu-prof-interval=500', '--heap-prof']);
  });

  it('is empty when the process is not profiled', () => {
    expect(profilerFlags(['--heap-growing-percent=50', '--enable-source-maps'])).toEqual([]);
  });
});
