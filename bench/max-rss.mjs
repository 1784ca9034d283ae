// Preloaded into a benchmarked child process (node --import): on exit, writes the process's peak resident
// set size (every thread's memory, in KiB as process.resourceUsage() gives it) to MDS_BENCH_RSS_FILE.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  if (process.env.MDS_BENCH_RSS_FILE)
    writeFileSync(process.env.MDS_BENCH_RSS_FILE, String(process.resourceUsage().maxRSS));
});
