import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { E2eFixture } from './e2e-fixture.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

/**
 * Puts the fixture's state store behind a TCP proxy the test can cut and restore: the config is
 * written with `config` and a `state.url` through the proxy (closed at teardown), which `url` is.
 */
export async function stateStoreBehindProxy(
  f: E2eFixture,
  config: Record<string, unknown>,
): Promise<{ proxy: TcpProxy; url: string }> {
  const target = new URL(f.db.url);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  f.defer(() => proxy.close());
  const proxied = new URL(f.db.url);
  proxied.host = `${proxy.host}:${proxy.port}`;
  await f.ws.writeConfig({ ...config, state: { url: proxied.toString() } });
  return { proxy, url: proxied.toString() };
}

/** The folder of the local journal of the fixture's archive. */
export const journalDir = (f: E2eFixture): string => join(f.ws.dir, 'archive', '.journal');

/** The local journal's files and the entries of the first, parsed. */
export async function journalEntries(f: E2eFixture): Promise<{ files: string[]; entries: unknown[] }> {
  const dir = journalDir(f);
  const files = await readdir(dir);
  const entries = (await readFile(join(dir, files[0]!), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);
  return { files, entries };
}
