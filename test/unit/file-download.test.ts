import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { downloadFile, type FileDownloadOptions } from '../../connectors/cxone/file-download.js';
import { DownloadError, DownloadRefusedError, DownloadUrlExpiredError } from '../../src/errors.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A local server whose answers a test sets; it records the authorization header of every request. */
async function server(): Promise<{
  origin: string;
  seen: (string | undefined)[];
  on(h: Handler): void;
  s: Server;
}> {
  let handler: Handler = (_q, r) => r.end();
  const seen: (string | undefined)[] = [];
  const s = createServer((req, res) => {
    seen.push(req.headers.authorization);
    handler(req, res);
  });
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  return {
    origin: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    seen,
    on: (h) => (handler = h),
    s,
  };
}

describe('downloadFile', () => {
  let dir: string;
  let api: Awaited<ReturnType<typeof server>>;
  let storage: Awaited<ReturnType<typeof server>>;
  let options: FileDownloadOptions;
  const body = Buffer.from('h1,h2\r\n1,2\r\n'.repeat(1000));
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'file-download-'));
    api = await server();
    storage = await server();
    options = {
      apiBase: new URL(api.origin),
      allowedDownloadHosts: [],
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 },
      timeoutMs: 5_000,
      sleep: async () => {},
      bearer: async () => 'tok',
    };
  });
  afterEach(() => {
    api.seen.length = 0;
    storage.seen.length = 0;
  });
  afterAll(async () => {
    for (const s of [api.s, storage.s]) {
      s.closeAllConnections();
      s.close();
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('follows a redirect to another origin without the bearer token, and writes the file whole', async () => {
    api.on((_q, r) => {
      r.writeHead(302, { location: `${storage.origin}/f.csv?sig=x` });
      r.end('moved');
    });
    storage.on((_q, r) => {
      r.writeHead(200, { 'content-length': String(body.length) });
      r.end(body);
    });
    const dest = join(dir, 'a', 'out.csv');
    const progress: number[] = [];
    const result = await downloadFile('/export/f', dest, options, (n) => progress.push(n));
    expect(result).toEqual({
      bytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
      host: new URL(storage.origin).host,
    });
    expect((await readFile(dest)).equals(body)).toBe(true);
    expect(existsSync(`${dest}.part`)).toBe(false);
    expect(progress.at(-1)).toBe(body.length);
    expect(api.seen).toEqual(['Bearer tok']);
    expect(storage.seen).toEqual([undefined]);
  });

  it('throws DownloadUrlExpiredError on 403, DownloadRefusedError on 418, DownloadError after retried 503s', async () => {
    storage.on((_q, r) => {
      r.writeHead(403);
      r.end('<Error>expired</Error>');
    });
    await expect(downloadFile(`${storage.origin}/f`, join(dir, 'b.csv'), options)).rejects.toBeInstanceOf(
      DownloadUrlExpiredError,
    );
    storage.on((_q, r) => {
      r.writeHead(418);
      r.end();
    });
    await expect(downloadFile(`${storage.origin}/f`, join(dir, 'b.csv'), options)).rejects.toBeInstanceOf(
      DownloadRefusedError,
    );
    storage.on((_q, r) => {
      r.writeHead(503);
      r.end();
    });
    storage.seen.length = 0;
    const err = await downloadFile(`${storage.origin}/f`, join(dir, 'b.csv'), options).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as DownloadError).retryable).toBe(true);
    expect((err as Error).message).toBe('download answered HTTP 503 after 3 attempts');
    expect(storage.seen).toHaveLength(3);
  });

  it('refuses a redirect off the allowed hosts, and leaves no file of a body cut short', async () => {
    api.on((_q, r) => {
      r.writeHead(302, { location: 'https://evil.example/f.csv' });
      r.end();
    });
    await expect(downloadFile('/export/f', join(dir, 'c.csv'), options)).rejects.toBeInstanceOf(
      DownloadRefusedError,
    );
    storage.on((_q, r) => {
      r.writeHead(200, { 'content-length': String(body.length) });
      r.write(body.subarray(0, 100), () => r.destroy());
    });
    const dest = join(dir, 'd.csv');
    const err = await downloadFile(`${storage.origin}/f`, dest, options).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err).not.toBeInstanceOf(DownloadRefusedError);
    expect((err as Error).message).toMatch(/was cut off after \d+ bytes/);
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });
});
