import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Dispatcher, request } from 'undici';
import {
  ApiError,
  AuthError,
  DownloadError,
  ExportFailedError,
  HorizonError,
  QuotaExhaustedError,
} from '../../src/errors.js';
import type { Logger } from '../../src/log/logger.js';
import { redact, safeUrl } from '../../src/log/redact.js';
import { assertDownloadAllowed } from './download-policy.js';
import { backoffDelay, parseRetryAfter, type RetryPolicy, sleep } from './http-retry.js';
import { type ExportStatus, parseExportStatus } from './status-parser.js';
import type { TokenProvider } from './token-provider.js';

export interface ExportClientOptions {
  readonly apiBase: string;
  readonly allowedDownloadHosts: readonly string[];
  readonly allowInsecureDownloads?: boolean;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
}

export interface ExportRequestBody {
  dateRange: { startDate: string; endDate: string };
  timeZone: string;
  channels?: string[];
  filters?: Record<string, string[]>;
}

export interface SubmittedExport {
  readonly exportId: string;
  /** Status URL on the API base (never taken from another host). */
  readonly statusUrl: string;
}

export interface DownloadResult {
  readonly bytes: number;
  readonly sha256: string;
  readonly host: string;
}

/** A download URL that no longer works (403/404/410): poll the status for a fresh one. */
export class DownloadUrlExpiredError extends DownloadError {}

const apiPrefix = '/observabilitydashboard/v2/tables';

/**
 * The Export API client (SPEC section 4): request, status, download. Retries 429, 5xx and
 * network errors with backoff and jitter (Retry-After honoured), renews the token once on a 401,
 * and never sends the bearer token to another origin.
 */
export class ExportClient {
  private readonly base: URL;

  constructor(
    private readonly tokens: TokenProvider,
    private readonly options: ExportClientOptions,
    private readonly log: Logger,
  ) {
    this.base = new URL(options.apiBase);
  }

  /** POSTs the export request. One call is one spent export: it is not retried after a 5xx it may have accepted. */
  async requestExport(apiPath: string, body: ExportRequestBody, fileName: string): Promise<SubmittedExport> {
    const url = `${this.options.apiBase}${apiPrefix}/${apiPath}/export-data`;
    const res = await this.call('POST', url, JSON.stringify(body), { retryServerErrors: 'unprocessed' });
    if (res.status !== 200 && res.status !== 202 && res.status !== 201) {
      throw this.errorFor(res.status, res.text, 'export request');
    }
    const location = firstHeader(res.headers.location) ?? firstHeader(res.headers['content-location']);
    const exportId = exportIdFrom(location, res.text);
    if (!exportId) {
      throw new ExportFailedError(
        `export request answered HTTP ${res.status} without a usable Location header (body: ${JSON.stringify(redact(res.text.slice(0, 300)))})`,
        false,
      );
    }
    return { exportId, statusUrl: this.statusUrl(exportId, fileName) };
  }

  statusUrl(exportId: string, fileName: string): string {
    return `${this.options.apiBase}${apiPrefix}/export-data/${encodeURIComponent(exportId)}/status?fileName=${encodeURIComponent(fileName)}`;
  }

  async getStatus(statusUrl: string): Promise<ExportStatus> {
    const res = await this.call('GET', statusUrl, undefined, { retryServerErrors: 'all' });
    if (res.status !== 200 && res.status !== 202) throw this.errorFor(res.status, res.text, 'export status');
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      const trimmed = res.text.trim();
      body = /^https?:\/\//i.test(trimmed) ? { url: trimmed } : { status: trimmed };
    }
    return parseExportStatus(body, res.text);
  }

  /**
   * Streams the file to `dest` (via a `.part` file, renamed when complete), hashing as it goes.
   * Checks every URL and redirect against the download policy and the body against its
   * Content-Length.
   */
  async download(
    downloadUrl: string,
    dest: string,
    onProgress?: (bytes: number) => void,
  ): Promise<DownloadResult> {
    let url = new URL(downloadUrl, this.base);
    await mkdir(dirname(dest), { recursive: true });
    const part = `${dest}.part`;
    for (let attempt = 1, redirects = 0; ; ) {
      assertDownloadAllowed(
        url,
        this.options.allowedDownloadHosts,
        this.base,
        this.options.allowInsecureDownloads,
      );
      const headers: Record<string, string> = { accept: 'text/csv, */*' };
      if (url.origin === this.base.origin) headers.authorization = `Bearer ${await this.tokens.get()}`;
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, {
          method: 'GET',
          headers,
          headersTimeout: this.options.timeoutMs,
          bodyTimeout: this.options.timeoutMs,
        });
      } catch (err) {
        if (attempt++ < this.options.retry.maxAttempts) {
          await sleep(backoffDelay(this.options.retry, attempt - 1));
          continue;
        }
        throw new DownloadError(`download from ${safeUrl(url)} failed: ${(err as Error).message}`, true, {
          cause: err,
        });
      }
      const status = res.statusCode;
      if (status >= 300 && status < 400 && res.headers.location) {
        await res.body.dump();
        if (++redirects > 5) throw new DownloadError(`too many redirects downloading ${safeUrl(url)}`, true);
        url = new URL(firstHeader(res.headers.location)!, url);
        continue;
      }
      if (status === 403 || status === 404 || status === 410 || status === 401) {
        await res.body.dump();
        throw new DownloadUrlExpiredError(
          `download URL answered HTTP ${status} (expired or gone); polling the status for a fresh one`,
        );
      }
      if (status === 429 || status >= 500) {
        await res.body.dump();
        if (attempt++ < this.options.retry.maxAttempts) {
          await sleep(
            backoffDelay(this.options.retry, attempt - 1, parseRetryAfter(res.headers['retry-after'])),
          );
          continue;
        }
        throw new DownloadError(`download answered HTTP ${status} after ${attempt - 1} attempts`, true);
      }
      if (status !== 200) {
        await res.body.dump();
        throw new DownloadError(`download answered HTTP ${status}`, false);
      }
      const expected = Number(firstHeader(res.headers['content-length']) ?? Number.NaN);
      const hash = createHash('sha256');
      let bytes = 0;
      const tap = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          bytes += chunk.length;
          onProgress?.(bytes);
          cb(null, chunk);
        },
      });
      try {
        await pipeline(res.body, tap, createWriteStream(part));
      } catch (err) {
        await rm(part, { force: true });
        throw new DownloadError(
          `download from ${safeUrl(url)} was cut off after ${bytes} bytes: ${(err as Error).message}`,
          true,
          {
            cause: err,
          },
        );
      }
      if (Number.isFinite(expected) && bytes !== expected) {
        await rm(part, { force: true });
        throw new DownloadError(
          `download from ${safeUrl(url)} has ${bytes} bytes, Content-Length said ${expected}`,
          true,
        );
      }
      await rename(part, dest);
      return { bytes, sha256: hash.digest('hex'), host: url.host };
    }
  }

  private async call(
    method: 'GET' | 'POST',
    url: string,
    body: string | undefined,
    opts: { retryServerErrors: 'all' | 'unprocessed' },
  ): Promise<{ status: number; headers: Dispatcher.ResponseData['headers']; text: string }> {
    let renewed = false;
    for (let attempt = 1; ; attempt++) {
      const token = await this.tokens.get();
      let status: number;
      let headers: Dispatcher.ResponseData['headers'];
      let text: string;
      try {
        const res = await request(url, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          body,
          headersTimeout: this.options.timeoutMs,
          bodyTimeout: this.options.timeoutMs,
        });
        status = res.statusCode;
        headers = res.headers;
        text = await res.body.text();
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        // A POST whose connection failed after sending may have been accepted: only retry
        // errors that prove the request never arrived.
        const neverSent = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT'].includes(
          code,
        );
        if ((opts.retryServerErrors === 'all' || neverSent) && attempt < this.options.retry.maxAttempts) {
          this.log.warn('network error, retrying', {
            url: safeUrl(url),
            attempt,
            error: (err as Error).message,
          });
          await sleep(backoffDelay(this.options.retry, attempt));
          continue;
        }
        throw new ApiError(`${method} ${safeUrl(url)} failed: ${(err as Error).message}`, null, true, {
          cause: err,
        });
      }
      if (status === 401 && !renewed) {
        renewed = true;
        this.tokens.invalidate();
        attempt--;
        continue;
      }
      if (status === 401) {
        throw new AuthError(
          `the API refused a fresh token (HTTP 401 at ${safeUrl(url)}); check the access key's permissions`,
        );
      }
      const retryable =
        status === 429 ||
        (opts.retryServerErrors === 'all'
          ? status >= 500
          : status === 502 || status === 503 || status === 504);
      if (retryable && attempt < this.options.retry.maxAttempts) {
        const wait = backoffDelay(this.options.retry, attempt, parseRetryAfter(headers['retry-after']));
        this.log.warn('retrying', { url: safeUrl(url), status, attempt, waitMs: wait });
        await sleep(wait);
        continue;
      }
      return { status, headers, text };
    }
  }

  private errorFor(status: number, text: string, what: string): Error {
    let message = text.slice(0, 500);
    try {
      const b = JSON.parse(text) as { message?: unknown; error?: unknown; exception?: { message?: unknown } };
      const m = b.message ?? b.exception?.message ?? b.error;
      if (typeof m === 'string') message = m;
    } catch {
      // not JSON: quote the text
    }
    message = redact(message);
    if (/more than 4 months|4 months ago/i.test(message)) {
      return new HorizonError(
        `the API refused the window: ${message} (set account.historyAuthorized only if NICE authorised older data)`,
      );
    }
    if (/too many export requests|exports per 24 hours/i.test(message)) {
      return new QuotaExhaustedError(null, `the API refused the export: quota used up (${message})`);
    }
    const retryable = status === 429 || status >= 500;
    return new ApiError(`${what} answered HTTP ${status}: ${message}`, status, retryable);
  }
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The export id from the Location header (the status URL, absolute or relative), or a JSON body. */
export function exportIdFrom(location: string | undefined, body: string): string | undefined {
  if (location) {
    const path = location.replace(/^[a-z]+:\/\/[^/]+/i, '').split(/[?#]/)[0]!;
    const m = /export-data\/([^/]+)\/status/i.exec(path);
    if (m) return decodeURIComponent(m[1]!);
    const last = path.split('/').filter(Boolean).pop();
    if (last && last !== 'status') return decodeURIComponent(last);
  }
  try {
    const b = JSON.parse(body) as Record<string, unknown>;
    for (const k of ['exportId', 'id', 'jobId']) if (typeof b[k] === 'string' && b[k]) return b[k] as string;
  } catch {
    // no JSON body
  }
  return undefined;
}
