import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * A fresh database per call, so that parallel workers and repeated runs never share state.
 *
 * Which server, in order: TEST_DATABASE_URL or DATABASE_URL (a PostgreSQL server the tests may
 * create databases on); else a PostgreSQL container (testcontainers) where Docker runs; else an
 * embedded PGlite served over the wire protocol (./pglite-server.ts), one instance per database.
 * PGlite takes no COPY FROM STDIN, so there `copy` is false and the CLI under test is configured
 * with `destination.copy: false` (its batched INSERT path) instead of skipping those cases.
 */
export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  /** Whether the server takes COPY FROM STDIN (not the embedded PGlite fallback). */
  readonly copy: boolean;
  query<T extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<T[]>;
  drop(): Promise<void>;
}

type Server = { kind: 'url' | 'container'; url: string } | { kind: 'pglite' };
let server: Promise<Server> | undefined;

async function chooseServer(): Promise<Server> {
  const url = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (url) return { kind: 'url', url };
  try {
    const tc = await import('testcontainers');
    const c = await new tc.GenericContainer('postgres:15-alpine')
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
      .withExposedPorts(5432)
      .withWaitStrategy(tc.Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start();
    process.stderr.write('tests: using a PostgreSQL container (testcontainers)\n');
    return { kind: 'container', url: `postgres://postgres@${c.getHost()}:${c.getMappedPort(5432)}/postgres` };
  } catch {
    process.stderr.write(
      'tests: no DATABASE_URL and no Docker; using embedded PGlite (COPY cases run through the INSERT fallback)\n',
    );
    return { kind: 'pglite' };
  }
}

function wrap(url: string, name: string, copy: boolean, dropServer: () => Promise<void>): TestDatabase {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  return {
    url,
    name,
    copy,
    async query(text, params) {
      const r = await pool.query(text, params);
      return r.rows;
    },
    async drop() {
      await pool.end();
      await dropServer();
    },
  };
}

export async function createTestDatabase(prefix = 'cxone_test'): Promise<TestDatabase> {
  server ??= chooseServer();
  const s = await server;
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  if (s.kind === 'pglite') {
    const { PGlite } = await import('@electric-sql/pglite');
    const { startPgliteServer } = await import('./pglite-server.js');
    const db = await PGlite.create();
    const srv = await startPgliteServer(db);
    return wrap(srv.url, name, false, async () => {
      await srv.close();
      await db.close();
    });
  }
  const admin = new pg.Client({ connectionString: s.url });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const u = new URL(s.url);
  u.pathname = `/${name}`;
  return wrap(u.toString(), name, true, async () => {
    const c = new pg.Client({ connectionString: s.url });
    await c.connect();
    try {
      await c.query(`drop database if exists "${name}" with (force)`);
    } finally {
      await c.end();
    }
  });
}
