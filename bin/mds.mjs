#!/usr/bin/env node
// Entry point for `npx mds`: loads the TypeScript CLI through tsx, so no build step is needed.
//
// The commands that run the local pipeline in this process (`mds local up`, `mds run`) first relaunch
// themselves (bin/relaunch.mjs) with two settings that bound its memory and can only be given when a process
// starts. MALLOC_ARENA_MAX=2: glibc's malloc gives every thread that allocates at the same time as another an
// arena of its own, up to 8 per core, and each arena keeps what was freed in it; the broker thread, the Lambda
// environments and the producer all allocate at once (DuckDB has its own allocator). --heap-growing-percent=50:
// after each full collection V8 lets a heap grow by at most half of what is live before the next one, instead
// of up to 4 times, for every thread (the main thread's heap has no limit of its own, and its garbage,
// some 150 MiB during the workflow, was collected late). A variable already set is kept
// (MALLOC_ARENA_MAX=8 mds local up ...).
import { relaunch } from './relaunch.mjs';

/** V8 flags of the relaunched process (a V8 flag of long standing; node refuses to start on an unknown one). */
const NODE_FLAGS = ['--heap-growing-percent=50'];

/** The commands that relaunch, by their first words. */
const PIPELINE_COMMANDS = [['local', 'up'], ['run']];

const args = process.argv.slice(2);
const pipeline = PIPELINE_COMMANDS.some((words) => words.every((w, i) => args[i] === w));
if (
  !pipeline ||
  process.platform === 'win32' ||
  relaunch({ env: { MALLOC_ARENA_MAX: '2' }, nodeFlags: NODE_FLAGS })
) {
  // Loaded here, not above: the process that only waits for its relaunched child stays small.
  const { register } = await import('tsx/esm/api');
  register();
  await import('./mds.ts');
}
