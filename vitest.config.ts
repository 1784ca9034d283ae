import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration suites start real servers (broker, S3, Postgres, Chromium); on two cores keep them apart.
    fileParallelism: true,
    maxWorkers: 2,
    pool: 'forks',
    // Suites that build a million-row Gold or hold 100,000 records need more than the default heap.
    execArgv: ['--max-old-space-size=6144'],
  },
});
