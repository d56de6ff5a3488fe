import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseReadBuffers } from '../../connectors/cxone/release-read-buffers.js';
import { neverSent } from '../../connectors/cxone/request-sent.js';
import { sendRequest } from '../../connectors/http-request.js';
import { closedPort } from '../support/tcp-proxy.js';

describe('sendRequest (the API client on node:http)', () => {
  let server: Server;
  let origin: string;
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_q, r) => r.end();
  beforeAll(async () => {
    server = createServer((req, res) => handler(req, res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('sends the method, headers and body, and gives the status, headers and UTF-8 text', async () => {
    handler = async (req, res) => {
      const body = await text(req);
      res.writeHead(202, { location: '/status/1', date: 'Tue, 01 Dec 2026 10:00:00 GMT' });
      res.end(JSON.stringify({ method: req.method, type: req.headers['content-type'], body, café: '🍰' }));
    };
    const res = await sendRequest(new URL(`${origin}/export`), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
      timeoutMs: 5_000,
    });
    expect(res.statusCode).toBe(202);
    expect(res.headers.location).toBe('/status/1');
    expect(JSON.parse(await text(res))).toEqual({
      method: 'POST',
      type: 'application/json',
      body: '{"a":1}',
      café: '🍰',
    });
  });

  it('fails a server silent past the timeout, as an error that may follow a request the server got', async () => {
    handler = () => {
      // never answers
    };
    const err = await sendRequest(new URL(`${origin}/silent`), {
      method: 'POST',
      headers: {},
      body: '{}',
      timeoutMs: 200,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/no data from the server for 200 ms/);
    expect(neverSent(err)).toBe(false);
  });

  it('fails a refused connection as one that proves nothing was sent', async () => {
    const err = await sendRequest(new URL(`http://127.0.0.1:${await closedPort()}/export`), {
      method: 'POST',
      headers: {},
      body: '{}',
      timeoutMs: 5_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(neverSent(err)).toBe(true);
  });
});

describe('releaseReadBuffers', () => {
  it('leaves gc hidden from the contexts made after it', () => {
    releaseReadBuffers();
    releaseReadBuffers();
    expect(runInNewContext('typeof gc')).toBe('undefined');
  });
});
