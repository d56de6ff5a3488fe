import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DownloadError,
  DownloadRefusedError,
  DownloadUrlExpiredError,
  retryableStatus,
} from '../../src/errors.js';
import { safeUrl } from '../../src/log/redact.js';
import type { DownloadResult } from '../../src/ports/export-api.js';
import {
  again,
  done,
  parseRetryAfter,
  type RetryPolicy,
  type Sleep,
  withRetry,
} from '../../src/retry/retry.js';
import { sendRequest } from '../http-request.js';
import { assertDownloadAllowed } from './download-policy.js';
import { releaseReadBuffers } from './release-read-buffers.js';

export interface FileDownloadOptions {
  /** The API origin: relative URLs resolve against it, and only it gets the bearer token. */
  readonly apiBase: URL;
  readonly allowedDownloadHosts: readonly string[];
  readonly allowInsecureDownloads?: boolean | undefined;
  readonly retry: RetryPolicy;
  /** How long the server may stay silent, for the answer's head and between body chunks. */
  readonly timeoutMs: number;
  readonly sleep: Sleep;
  /** The bearer token, asked for only when a hop is on the API origin. */
  readonly bearer: () => Promise<string>;
}

/** Redirects followed before giving up. */
const maxRedirects = 5;

/** The socket's dead read buffers are freed after every this many bytes (`releaseReadBuffers`). */
const releaseEveryBytes = 4 * 2 ** 20;

/**
 * Streams the file at `downloadUrl` to `dest`: written to `dest.part`, hashed as it goes, checked
 * against its Content-Length, fsynced, renamed into place and its directory fsynced, so that
 * `dest` exists only whole and durable. Every URL and redirect is checked against the download
 * policy. 429, 5xx and network errors before the answer are retried (`withRetry`); 401, 403, 404
 * and 410 throw `DownloadUrlExpiredError`, another status `DownloadRefusedError`, and a body cut
 * off or not written a `DownloadError`.
 *
 * Built on `node:http`/`node:https` (`sendRequest`) rather than undici: undici 7's HTTP/1 parser
 * throws an uncatchable `assert(!this.paused)` when a server closes the connection right after
 * the body while the file write applies backpressure (nodejs/undici#5360, fixed only in undici
 * 8, which needs Node 22.19). test/unit/download-close.test.ts keeps it from coming back.
 */
export async function downloadFile(
  downloadUrl: string,
  dest: string,
  options: FileDownloadOptions,
  onProgress?: (bytes: number) => void,
): Promise<DownloadResult> {
  let url = new URL(downloadUrl, options.apiBase);
  await mkdir(dirname(dest), { recursive: true });
  let redirects = 0;
  const res = await withRetry<IncomingMessage>(
    options.retry,
    async (attempt) => {
      for (;;) {
        assertDownloadAllowed(
          url,
          options.allowedDownloadHosts,
          options.apiBase,
          options.allowInsecureDownloads,
        );
        const headers: OutgoingHttpHeaders = { accept: 'text/csv, */*' };
        if (url.origin === options.apiBase.origin) headers.authorization = `Bearer ${await options.bearer()}`;
        let res: IncomingMessage;
        try {
          res = await sendRequest(url, { method: 'GET', headers, timeoutMs: options.timeoutMs });
        } catch (err) {
          return again(() => {
            throw new DownloadError(`download from ${safeUrl(url)} failed: ${(err as Error).message}`, {
              cause: err,
            });
          });
        }
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          if (++redirects > maxRedirects)
            throw new DownloadError(`too many redirects downloading ${safeUrl(url)}`);
          url = new URL(res.headers.location, url);
          continue;
        }
        if (status === 403 || status === 404 || status === 410 || status === 401) {
          res.resume();
          throw new DownloadUrlExpiredError(
            `download URL answered HTTP ${status} (expired or gone); polling the status for a fresh one`,
          );
        }
        if (retryableStatus(status)) {
          res.resume();
          return again(() => {
            throw new DownloadError(`download answered HTTP ${status} after ${attempt} attempts`);
          }, parseRetryAfter(res.headers['retry-after']));
        }
        if (status !== 200) {
          res.resume();
          throw new DownloadRefusedError(`download answered HTTP ${status}`);
        }
        return done(res);
      }
    },
    { sleep: options.sleep },
  );
  const expected = Number(res.headers['content-length'] ?? Number.NaN);
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      if (Math.floor((bytes + chunk.length) / releaseEveryBytes) > Math.floor(bytes / releaseEveryBytes))
        releaseReadBuffers();
      bytes += chunk.length;
      onProgress?.(bytes);
      cb(null, chunk);
    },
  });
  const part = `${dest}.part`;
  try {
    await pipeline(res, tap, createWriteStream(part));
    await fsync(part);
  } catch (err) {
    await rm(part, { force: true });
    throw new DownloadError(
      `download from ${safeUrl(url)} was cut off after ${bytes} bytes: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (Number.isFinite(expected) && bytes !== expected) {
    await rm(part, { force: true });
    throw new DownloadError(
      `download from ${safeUrl(url)} has ${bytes} bytes, Content-Length said ${expected}`,
    );
  }
  await rename(part, dest);
  await fsyncDirectory(dirname(dest));
  return { bytes, sha256: hash.digest('hex'), host: url.host };
}

/** Flushes a file's data to the disk. */
async function fsync(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Flushes a directory entry (the rename) to the disk, where the platform can: Windows cannot open
 * a directory for that, and some file systems refuse it (EINVAL, ENOTSUP); the file itself is
 * already durable then.
 */
async function fsyncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EISDIR' && code !== 'EPERM') throw err;
  }
}
