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
  },
});
