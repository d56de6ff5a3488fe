import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * A fresh database per test file, so that parallel workers and repeated runs never share state.
 * Uses TEST_DATABASE_URL or DATABASE_URL (a server the tests may create databases on); where
 * neither is set and Docker runs, a PostgreSQL container from testcontainers.
 */
export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  query<T extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<T[]>;
  drop(): Promise<void>;
}

let containerUrl: Promise<string> | undefined;

async function serverUrl(): Promise<string> {
  const url = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (url) return url;
  containerUrl ??= (async () => {
    try {
      const tc = await import('testcontainers');
      const c = await new tc.GenericContainer('postgres:15-alpine')
        .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
        .withExposedPorts(5432)
        .withWaitStrategy(tc.Wait.forLogMessage(/database system is ready to accept connections/, 2))
        .start();
      return `postgres://postgres@${c.getHost()}:${c.getMappedPort(5432)}/postgres`;
    } catch (err) {
      throw new Error(
        `no database for the tests: set DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL server the tests may create databases on, or run Docker for testcontainers (${(err as Error).message})`,
      );
    }
  })();
  return containerUrl;
}

export async function createTestDatabase(prefix = 'cxone_test'): Promise<TestDatabase> {
  const admin = await serverUrl();
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const adminClient = new pg.Client({ connectionString: admin });
  await adminClient.connect();
  try {
    await adminClient.query(`create database "${name}"`);
  } finally {
    await adminClient.end();
  }
  const u = new URL(admin);
  u.pathname = `/${name}`;
  const url = u.toString();
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  return {
    url,
    name,
    async query(text, params) {
      const r = await pool.query(text, params);
      return r.rows;
    },
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
