// Runs the command again in a child process that starts with settings a running process cannot take any
// more: environment variables the C library reads once at start-up (MALLOC_ARENA_MAX) and V8 flags of the
// main thread's heap. The child gets the same arguments, standard streams and node flags; this process ends
// as the child ends (its exit code, or the signal that ended it), passes on the signals it is sent, and the
// child ends at once if this process is killed (so a killed `mds` leaves nothing running).
import { spawn } from 'node:child_process';

/** Set in the child's environment to this process's pid: the child then knows it is the relaunched one. */
export const RELAUNCHED_BY = 'MDS_RELAUNCHED_BY';

/** The signals passed on to the child (Ctrl-C from a terminal reaches both: the child's SIGINT is its own). */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * In the relaunched child: true, and the child is watched for its parent's end. Elsewhere: starts the child
 * (`env` added to this environment where not already set, `nodeFlags` after this process's node flags) and
 * returns false once it is started; this process then only waits for it.
 *
 * @param {{ env: Record<string, string>, nodeFlags: readonly string[] }} settings
 * @returns {boolean} whether this process is the one to run the command
 */
export function relaunch({ env, nodeFlags }) {
  if (process.env[RELAUNCHED_BY] !== undefined && process.env[RELAUNCHED_BY] === String(process.ppid)) {
    delete process.env[RELAUNCHED_BY];
    watchParent();
    return true;
  }
  const childEnv = { ...process.env, [RELAUNCHED_BY]: String(process.pid) };
  for (const [name, value] of Object.entries(env)) childEnv[name] ??= value;
  const child = spawn(
    process.execPath,
    [...process.execArgv, ...nodeFlags, ...process.argv.slice(1)],
    // The IPC channel carries nothing: it closes when this process ends, however it ends.
    { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], env: childEnv },
  );
  child.channel?.unref();
  const forward = (signal) => {
    // Ctrl-C in a terminal signals the whole process group, the child too: once is enough.
    if (signal === 'SIGINT' && process.stdin.isTTY) return;
    child.kill(signal);
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  child.on('error', (err) => {
    process.stderr.write(`mds: cannot start ${process.execPath}: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    for (const s of FORWARDED) process.off(s, forward);
    if (signal) {
      // End as the child did, so a shell or a supervisor sees the same signal.
      process.kill(process.pid, signal);
      // A signal this process cannot die of (ignored by its parent): the shell's convention.
      setTimeout(() => process.exit(128 + (signalNumber(signal) ?? 0)), 1000).unref();
      return;
    }
    process.exit(code ?? 1);
  });
  return false;
}

/** The child: ends at once (as if killed with its parent) when the parent is gone, its IPC channel closed. */
function watchParent() {
  if (!process.channel) return;
  process.channel.unref();
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
}

function signalNumber(signal) {
  return { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15 }[signal];
}
