import type { PostgresPool } from 'kysely';
import pg from 'pg';
import { StoreError } from '../errors.js';
import type { SqlClient, SqlPool } from '../ports/sql.js';

export type { SqlClient, SqlConnection, SqlPool } from '../ports/sql.js';

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

/** Socket and name-resolution errno codes of a database that cannot be reached or went away. */
const connectionCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a lost or refused connection: class 08 (connection exception), 57P01 to 57P03
 * (administrator or crash shutdown, the server starting up) and 53300 (too many connections).
 */
const connectionStates = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;

/** node-postgres' own messages for a connection that ended under a query or could not be opened. */
const connectionMessages =
  /^(Connection terminated|Client has encountered a connection error|Client was closed and is not queryable|timeout exceeded when trying to connect)/;

/**
 * Whether `err` (or a cause down its chain, or one of an AggregateError's, as a host name with
 * two addresses gives) says the database could not be reached or the connection was lost, as
 * opposed to a statement the database refused.
 */
export function isConnectionFailure(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 8; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (connectionCodes.has(code) || connectionStates.test(code))) return true;
    if (typeof message === 'string' && connectionMessages.test(message)) return true;
    if (e instanceof AggregateError && e.errors.some(isConnectionFailure)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * `pool` with its connection failures classified once, where they arise: a connect or a query
 * that fails because the database cannot be reached or the connection was lost (refused, reset,
 * terminated, shut down) rejects with a `StoreError` (retryable) whose message starts with
 * `what` and keeps the driver's error as its cause. Any other error (a constraint, a syntax) is
 * passed on as it is, so `isUniqueViolation` still sees it.
 */
export function withStoreErrors(pool: SqlPool, what: string): SqlPool {
  const classify = (err: unknown): unknown =>
    err instanceof StoreError || !isConnectionFailure(err) ? err : StoreError.wrap(what, err);
  const clients = new WeakMap<SqlClient, SqlClient>();
  return {
    async connect() {
      let client: SqlClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw classify(err);
      }
      let classified = clients.get(client);
      if (!classified) {
        const inner = client;
        classified = {
          async query(sql, params) {
            try {
              return await inner.query(sql, params);
            } catch (err) {
              throw classify(err);
            }
          },
          release: (destroy) => inner.release(destroy),
        };
        clients.set(client, classified);
      }
      return classified;
    },
    end: () => pool.end(),
  };
}
