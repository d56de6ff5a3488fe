import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: string;
}

/**
 * A local OpenLineage backend over real HTTP, for tests. `ok` answers 201 (as Marquez does),
 * `error` answers 500, `hang` reads the event and never answers (a backend that is slow past
 * any timeout).
 */
export interface LineageReceiver {
  /** The base URL, to set as `lineage.url` (events arrive at `/api/v1/lineage`). */
  readonly url: string;
  readonly requests: ReceivedRequest[];
  /** The bodies of the requests, parsed. */
  events(): Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startLineageReceiver(mode: 'ok' | 'error' | 'hang' = 'ok'): Promise<LineageReceiver> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: req.headers.authorization,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      if (mode === 'hang') return;
      res.writeHead(mode === 'ok' ? 201 : 500, { 'content-type': 'application/json' });
      res.end(mode === 'ok' ? '' : '{"error":"simulated failure"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    events: () => requests.map((r) => JSON.parse(r.body) as Record<string, unknown>),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A URL on a local port nothing listens on (connection refused): a backend that is down. */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
