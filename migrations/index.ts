import type { Migration } from 'kysely';
import * as m0001 from './0001-initial.js';
import * as m0002 from './0002-export-backoff.js';
import * as m0003 from './0003-freshness-and-comments.js';
import * as m0004 from './0004-stream-backoff-and-shared-quota.js';
import * as m0005 from './0005-history-indexes-and-retention.js';

/**
 * State-store migrations, applied in name order by kysely's Migrator. An explicit registry, not
 * a directory scan: the build output and bundlers see every migration.
 */
export const stateMigrations: Record<string, Migration> = {
  '0001-initial': m0001,
  '0002-export-backoff': m0002,
  '0003-freshness-and-comments': m0003,
  '0004-stream-backoff-and-shared-quota': m0004,
  '0005-history-indexes-and-retention': m0005,
};

/**
 * What every state table, view and column means as of the latest migration: what `dbt-sources`
 * and docs/reference/state.md document them with (the latest migration wrote the same text into
 * the database with `COMMENT ON`).
 */
export { freshnessViewDocV4 as freshnessViewDoc } from './0004-stream-backoff-and-shared-quota.js';
export { stateTableDocsV5 as stateTableDocs } from './0005-history-indexes-and-retention.js';
