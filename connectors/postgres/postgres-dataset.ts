import type { DatasetName } from '../../src/ports/lineage.js';

/** The embedded database of `demo` (PGlite): no server, so no host or port to name. */
export const embeddedNamespace = 'postgres://pglite';

/**
 * A table as OpenLineage names PostgreSQL datasets: namespace `postgres://{host}:{port}`, name
 * `{database}.{schema}.{table}`, read from the connection URL without its user or password.
 * Defaults as node-postgres applies them: host localhost, port 5432, the database named after the
 * user. A Unix socket directory (`?host=/var/run/postgresql`) is this machine: `localhost`.
 * `url` undefined is the embedded database (`postgres://pglite`, database `postgres`).
 */
export function postgresDataset(url: string | undefined, schema: string, table: string): DatasetName {
  if (url === undefined) return { namespace: embeddedNamespace, name: `postgres.${schema}.${table}` };
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    u = undefined;
  }
  const param = (name: string) => u?.searchParams.get(name) || undefined;
  const rawHost = (u?.hostname || param('host') || 'localhost').toLowerCase();
  const host = rawHost.startsWith('/') ? 'localhost' : rawHost;
  const port = u?.port || param('port') || '5432';
  const path = u ? decodeURIComponent(u.pathname.replace(/^\//, '')) : '';
  const database =
    path || param('dbname') || (u?.username ? decodeURIComponent(u.username) : '') || 'postgres';
  return { namespace: `postgres://${host}:${port}`, name: `${database}.${schema}.${table}` };
}
