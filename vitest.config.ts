import { defineConfig } from 'vitest/config';

/**
 * Test files run side by side, more of them than this machine has cores: each file makes its
 * own database, simulator (on a port of its own) and temp directories, and most of a file's time
 * is spent waiting on the CLI processes it spawns and on the database. `CXONE_TEST_WORKERS`
 * sets how many at once (1: one file at a time, to read a failure's output in order).
 */
const workers = Number(process.env.CXONE_TEST_WORKERS ?? 4);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The real Python tools: `npm run test:ecosystem` (vitest.ecosystem.config.ts).
    exclude: ['test/ecosystem/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: workers,
    fileParallelism: workers > 1,
  },
});
