import type { PostgresPool } from 'kysely';
import pg from 'pg';

/**
 * The part of node-postgres' pool that the state store (through kysely) and a PostgreSQL
 * destination use: a `pg.Pool`, or a pool over the embedded PGlite database (`demo`).
 */
export interface SqlClient {
  query(
    sql: string,
    params?: readonly unknown[],
  ): Promise<{ rows: unknown[]; rowCount: number | null; command?: string }>;
  release(destroy?: boolean): void;
}

/** A pool of {@link SqlClient}s; `end` closes it (kysely calls it when the state store closes). */
export interface SqlPool {
  connect(): Promise<SqlClient>;
  end(): Promise<void>;
}

/**
 * A node-postgres pool of at most `max` connections to `url`. A client's error (a server
 * restart, a dropped connection) is swallowed, idle or checked out, since without a listener it
 * would end the process; the query in flight fails with it, and the next query on the pool
 * reports the problem instead.
 */
export function createSqlPool(url: string, max: number): SqlPool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => {});
  // A checked-out client has no pool listener: a connection cut under a query would crash.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/**
 * The pool as kysely's `PostgresDialect` takes it: the one cast between the two. kysely declares
 * a cursor overload of `query` that `SqlClient` (and so the PGlite pool) does not offer; kysely
 * calls it only for streamed queries, which the state store does not make.
 */
export function asKyselyPool(pool: SqlPool): PostgresPool {
  return pool as unknown as PostgresPool;
}

/** Whether a statement failed on a unique constraint (SQLSTATE 23505). */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === '23505';
}
