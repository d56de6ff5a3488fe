import { defineConfig } from 'vitest/config';

/**
 * `npm run test:ecosystem`: the example DAGs, the dbt sources and the lineage parent run, checked
 * by the real tools (Airflow 3, dbt-core, openlineage-python) from a pinned virtual environment
 * that the global setup creates or reuses (test/ecosystem/python-env.sh). Kept out of `npm test`,
 * so that a fresh machine needs only Node. Needs a PostgreSQL server (DATABASE_URL).
 */
export default defineConfig({
  test: {
    include: ['test/ecosystem/**/*.test.ts'],
    globalSetup: ['test/ecosystem/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
