/** The full-disk line: ENOSPC anywhere in an error's causes names the directory and the fix; other errors pass. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskFullFailure, isNoSpaceError } from '../../bin/commands/disk-full.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mds-diskfull-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

describe('diskFullFailure', () => {
  it('finds ENOSPC in the cause chain and in aggregated errors', () => {
    expect(isNoSpaceError(new Error('landing failed', { cause: new Error('PUT', { cause: enospc }) }))).toBe(
      true,
    );
    expect(isNoSpaceError(new AggregateError([new Error('x'), enospc]))).toBe(true);
    expect(isNoSpaceError(new Error('connect ECONNREFUSED 127.0.0.1:1'))).toBe(false);
  });
  it('is one line naming the directory, the first line of the cause and the fix', () => {
    const err = diskFullFailure(new Error('landing failed\nmore detail', { cause: enospc }), dir, 'mds run');
    expect(err?.message).toMatch(
      new RegExp(
        `^disk full at ${dir} \\([\\d,]+ KiB free\\): landing failed\\. Free space there or pass another --data directory, then run mds run again$`,
      ),
    );
  });
  it('leaves other errors alone where there is room', () => {
    expect(diskFullFailure(new Error('the workflow run failed'), dir, 'mds run')).toBeUndefined();
  });
});
