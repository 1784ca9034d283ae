/**
 * A full disk under the data directory, told as one line naming the directory and the fix. The local stand-ins
 * report it in their own words (ENOSPC from a file write, the broker's KAFKA_STORAGE_ERROR, the S3 server's
 * 500 on a PUT), so the free space left there decides as well as the error itself.
 */
import { statfsSync } from 'node:fs';
import { MdsError, errorMessage } from '../../lambdas/core/errors.ts';

/** Below this much free space, a failure under the data directory is taken to be the full disk. */
const NEARLY_FULL_BYTES = 4 * 1024 * 1024;

/** The error or one of its causes is ENOSPC. */
export function isNoSpaceError(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    const x = e as { code?: unknown; message?: unknown; errors?: unknown };
    if (x.code === 'ENOSPC' || /\bENOSPC\b|no space left on device/i.test(String(x.message ?? '')))
      return true;
    if (Array.isArray(x.errors) && x.errors.some(isNoSpaceError)) return true;
  }
  return false;
}

/** Free bytes for an unprivileged writer on the file system holding `dir`, or undefined when unknown. */
export function freeBytes(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return undefined;
  }
}

/** The one-line error for `err` when it comes from a full disk at `dir`; undefined otherwise. */
export function diskFullFailure(err: unknown, dir: string, command: string): MdsError | undefined {
  const free = freeBytes(dir);
  if (!isNoSpaceError(err) && !(free !== undefined && free < NEARLY_FULL_BYTES)) return undefined;
  return new MdsError(
    `disk full at ${dir} (${free === undefined ? 'no' : Math.floor(free / 1024).toLocaleString('en-US') + ' KiB'} free): ` +
      `${errorMessage(err).split('\n')[0]}. Free space there or pass another --data directory, then run ${command} again`,
    { cause: err },
  );
}
