import type { SqlPool } from '../../src/state/sql-pool.js';

/** What a `PostgresDestination` is created with: its config resolved against the state store and the CLI. */
export interface PostgresDestinationOptions {
  /** A PostgreSQL URL, or a pool (embedded PGlite for `demo`). */
  readonly url: string | SqlPool;
  readonly schema: string;
  /** True when the state store lives in the same database: state commits with the data. */
  readonly sharesStateDatabase: boolean;
  /**
   * Whether the server takes COPY FROM STDIN (default true), the `copy` setting. COPY goes
   * through node-postgres' own client, so a pool given as `url` never copies. Embedded PGlite
   * behind pglite-socket does not take it either; rows then go in as batched multi-row INSERTs.
   */
  readonly copy?: boolean;
  /** The pool's size when `url` is a URL (default 4): one connection per load in flight. */
  readonly maxConnections?: number;
}
