import { z } from 'zod';
import type { SqlPool } from '../../src/state/sql-pool.js';

/** The `destination` config section of a PostgreSQL destination (`type: postgres`). */
export const postgresConfigSchema = z.strictObject({
  type: z.literal('postgres'),
  url: z.string().min(1).describe('the PostgreSQL database the tables go to (a postgres:// URL)'),
  schema: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'a plain SQL identifier')
    .default('cxone')
    .describe('the schema of the tables'),
  /** The destination's `copy` capability follows it, and is false whatever it says over the embedded database. */
  copy: z
    .boolean()
    .default(true)
    .describe('false for PostgreSQL-compatible servers without COPY FROM STDIN: batched INSERTs instead'),
  maxConnections: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(4)
    .describe('connections each process opens to the destination at most: one per load in flight'),
});

/** A validated PostgreSQL `destination` section. */
export type PostgresConfig = z.output<typeof postgresConfigSchema>;

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

/**
 * The database a PostgreSQL URL names: its path, else (as libpq and node-postgres do) the user's
 * name; a `key=value` connection string's `dbname`.
 */
export function postgresDatabaseName(url: string): string {
  try {
    const u = new URL(url);
    return decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres';
  } catch {
    return /(?:^|\s)dbname\s*=\s*'?([^'\s]+)/.exec(url)?.[1] ?? 'postgres';
  }
}
