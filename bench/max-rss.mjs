// Preloaded into a benchmarked child process (node --import): on exit, appends the process's pid and peak
// resident set size (every thread's memory, in KiB as process.resourceUsage() gives it) as one line to
// MDS_BENCH_RSS_FILE. A command that relaunches itself (bin/relaunch.mjs) passes the preload on, so the file
// gets one line for each of the two processes.
import { appendFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  process.on('exit', () => {
    if (process.env.MDS_BENCH_RSS_FILE)
      appendFileSync(process.env.MDS_BENCH_RSS_FILE, `${process.pid} ${process.resourceUsage().maxRSS}\n`);
  });
}
