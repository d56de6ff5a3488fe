/**
 * Whether node-postgres reads `url` as the PostgreSQL server it names: a `postgres://` or
 * `postgresql://` URL that parses (`postgres:///db`: the local default; `postgres://user@/db?host=/dir`
 * and `postgres://%2Fdir/db`: a Unix socket), node-postgres' `socket:/dir?db=name`, or a socket
 * directory followed by the database (`/var/run/postgresql db`). Anything else it resolves
 * against a host named `base`, or fails on with an unhelpful `Invalid URL`.
 */
export function isPostgresUrl(url: string): boolean {
  if (url.startsWith('/')) return true;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme !== 'socket' && !((scheme === 'postgres' || scheme === 'postgresql') && /^[^:]+:\/\//.test(url)))
    return false;
  // As node-postgres does: spaces and stray percent signs encoded, a missing host given a dummy.
  const encoded = /\s|%[^a-f0-9]|%[a-f0-9][^a-f0-9]/i.test(url)
    ? encodeURI(url).replace(/%25(\d\d)/g, '%$1')
    : url;
  return [encoded, encoded.replace('@/', '@host/')].some((candidate) => URL.canParse(candidate));
}

/** What to write instead of a URL {@link isPostgresUrl} refuses (the URL itself is not quoted: it may hold a password). */
export const postgresUrlHint =
  'not a PostgreSQL URL: use postgres://user:password@host:5432/database (or postgresql://), ' +
  'with a character such as @ : / # ? in the user or password percent-encoded (%40 for @); ' +
  'a Unix socket: postgres://user@/database?host=/var/run/postgresql';
