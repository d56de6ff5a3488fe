import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StoreError } from '../../src/errors.js';
import {
  isConnectionFailure,
  isUniqueViolation,
  type SqlClient,
  type SqlPool,
  withStoreErrors,
} from '../../src/state/sql-pool.js';
import { StateStore } from '../../src/state/state-store.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const coded = (code: string, message = `failed with ${code}`) => Object.assign(new Error(message), { code });

/** A pool whose connect and query fail as the test says: the faults no socket gives on demand. */
function failingPool(fail: { connect?: unknown; query?: unknown }): SqlPool {
  const client: SqlClient = {
    query: async () => {
      if (fail.query) throw fail.query;
      return { rows: [], rowCount: 0 };
    },
    release: () => {},
  };
  return {
    connect: async () => {
      if (fail.connect) throw fail.connect;
      return client;
    },
    end: async () => {},
  };
}

describe('state-store connection failures are StoreErrors, classified at the pool', () => {
  it.each([
    ['a refused connect', coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5')],
    ['a reset connection', coded('ECONNRESET', 'read ECONNRESET')],
    ['a name that does not resolve', coded('ENOTFOUND', 'getaddrinfo ENOTFOUND db')],
    [
      'an administrator shutdown (57P01)',
      coded('57P01', 'terminating connection due to administrator command'),
    ],
    ['the server starting up (57P03)', coded('57P03', 'the database system is starting up')],
    ['a connection exception (08006)', coded('08006')],
    ['too many connections (53300)', coded('53300')],
    ['a connection node-postgres saw end', new Error('Connection terminated unexpectedly')],
    [
      'a client no longer queryable',
      new Error('Client has encountered a connection error and is not queryable'),
    ],
    [
      'both addresses of a host refused',
      new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')], 'connect failed'),
    ],
    ['a refused connect as a cause', new Error('wrapped', { cause: coded('ECONNREFUSED') })],
  ])('%s is a connection failure', (_, err) => {
    expect(isConnectionFailure(err)).toBe(true);
  });

  it.each([
    ['a unique violation', coded('23505')],
    ['a missing table', coded('42P01')],
    ['a syntax error', coded('42601')],
    ['a plain error', new Error('boom')],
    ['not an error', 'ECONNREFUSED'],
  ])('%s is not', (_, err) => {
    expect(isConnectionFailure(err)).toBe(false);
  });

  it('turns a failed connect or query into a retryable StoreError naming the setting, the driver error its cause', async () => {
    const refused = coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5');
    const connectErr = await withStoreErrors(failingPool({ connect: refused }), 'the state store (state.url)')
      .connect()
      .catch((e: unknown) => e);
    expect(connectErr).toBeInstanceOf(StoreError);
    expect(connectErr).toMatchObject({
      retryable: true,
      exitCode: 1,
      message: 'the state store (state.url): connect ECONNREFUSED 127.0.0.1:5',
      cause: refused,
    });

    const shutdown = coded('57P01', 'terminating connection due to administrator command');
    const client = await withStoreErrors(failingPool({ query: shutdown }), 'the state store').connect();
    const queryErr = await client.query('select 1').catch((e: unknown) => e);
    expect(queryErr).toBeInstanceOf(StoreError);
    expect((queryErr as StoreError).cause).toBe(shutdown);
  });

  it('passes a statement the database refused on as it is (a unique violation stays one)', async () => {
    const unique = coded('23505', 'duplicate key value violates unique constraint');
    const client = await withStoreErrors(failingPool({ query: unique }), 'the state store').connect();
    const err = await client.query('insert').catch((e: unknown) => e);
    expect(err).toBe(unique);
    expect(isUniqueViolation(err)).toBe(true);
  });

  describe('on real PostgreSQL', () => {
    let db: TestDatabase | undefined;
    let state: StateStore | undefined;
    afterEach(async () => {
      await state?.close();
      await db?.drop();
    });

    it('a statement whose connection an administrator terminates (57P01) fails with a StoreError', async () => {
      db = await createTestDatabase();
      // The embedded PGlite fallback has one backend and no pg_terminate_backend.
      if (!db.copy) return;
      state = new StateStore(db.url, 1);
      await state.migrate();
      // Another session holds the table a store statement needs: the statement waits on it.
      const locker = new pg.Client({ connectionString: db.url });
      await locker.connect();
      await locker.query('begin');
      await locker.query('lock table cxone_od_sync.quota_blocks in access exclusive mode');
      const sleeping = state.quota.forget('acct').catch((e: unknown) => e);
      const pid = await vi.waitFor(
        async () => {
          const [row] = await db!.query<{ pid: number }>(
            `select pid from pg_stat_activity where datname = $1 and wait_event_type = 'Lock' and query like 'delete from%quota_blocks%'`,
            [db!.name],
          );
          expect(row).toBeDefined();
          return row!.pid;
        },
        { timeout: 20_000, interval: 20 },
      );
      await db.query('select pg_terminate_backend($1)', [pid]);
      const err = await sleeping;
      await locker.end();
      expect(err).toBeInstanceOf(StoreError);
      expect(err).toMatchObject({ retryable: true });
      expect((err as StoreError).message).toMatch(
        /^the state store cannot be reached or dropped the connection/,
      );
    });
  });
});
