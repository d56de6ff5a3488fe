import type { IncomingHttpHeaders } from 'node:http';
import { text as readText } from 'node:stream/consumers';
import {
  ApiError,
  AuthError,
  ExportNotFoundError,
  ExportRefusedError,
  HorizonError,
  QuotaExhaustedError,
  RequestNotSentError,
  RequestNotTakenError,
  retryableStatus,
  UntrackableExportError,
} from '../../src/errors.js';
import type { Logger } from '../../src/log/logger.js';
import { redact, safeUrl } from '../../src/log/redact.js';
import type { Window } from '../../src/model/window.js';
import type {
  DownloadResult,
  ExportApi,
  ExportRequest,
  PreparedExport,
  ServerClockReading,
  SubmittedExport,
  VendorExportStatus,
} from '../../src/ports/export-api.js';
import type { DatasetName } from '../../src/ports/lineage.js';
import {
  again,
  done,
  parseRetryAfter,
  type RetryPolicy,
  realSleep,
  type Sleep,
  withRetry,
} from '../../src/retry/retry.js';
import { apiConnectTimeoutMs, sendRequest } from '../http-request.js';
import { downloadFile } from './file-download.js';
import { neverSent, tokenBeforeSending } from './request-sent.js';
import { parseExportStatus } from './status-parser.js';
import { clockReading, type TokenProvider } from './token-provider.js';

export interface ExportClientOptions {
  readonly apiBase: string;
  readonly allowedDownloadHosts: readonly string[];
  readonly allowInsecureDownloads?: boolean;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  /** The wait between retries (tests pass a fast one). */
  readonly sleep?: Sleep;
  /** The local clock that stamps the vendor's Date readings (the engine's clock; default the system's). */
  readonly now?: () => number;
}

/**
 * Which failures of a call are retried. `all`: network errors, 429 and 5xx (reads). `unprocessed`:
 * only those that say the vendor did not act on the request — a connection never made, 429 (too
 * many requests) and 503 (the service did not take it) — for the export POST, which spends an
 * export once it arrives. A 502 or 504 comes from a gateway that may have passed the request on:
 * the export may exist, so it is not sent again (the request is failed and stays counted).
 */
type RetryRule = 'all' | 'unprocessed';

/** The vendor's export request body (docs/contract.md, "The vendor API"). */
interface ExportRequestBody {
  dateRange: { startDate: string; endDate: string };
  timeZone: string;
  channels?: string[];
  filters?: Record<string, string[]>;
}

const apiPrefix = '/observabilitydashboard/v2/tables';

/** The status-URL file name: safe characters only, deterministic for the window. */
export function exportFileName(stream: string, window: Window): string {
  return `${stream}_${compact(window.start)}_${compact(window.end)}`.replace(/[^A-Za-z0-9_-]/g, '');
}

function compact(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/**
 * The Export API client (docs/contract.md, "The vendor API"): request, status, download. Retries 429, 5xx and
 * network errors with backoff and jitter (Retry-After honoured), renews the token once on a 401,
 * and never sends the bearer token to another origin.
 */
export class ExportClient implements ExportApi {
  private readonly base: URL;
  private readonly sleep: Sleep;
  private lastDate: ServerClockReading | undefined;

  constructor(
    private readonly tokens: TokenProvider,
    private readonly options: ExportClientOptions,
    private readonly log: Logger,
  ) {
    this.base = new URL(options.apiBase);
    this.sleep = options.sleep ?? realSleep;
  }

  buildRequest(request: ExportRequest): PreparedExport {
    const body: ExportRequestBody = {
      dateRange: {
        startDate: request.window.start.toISOString(),
        endDate: new Date(request.window.end.getTime() - 1).toISOString(),
      },
      timeZone: request.timeZone,
    };
    if (request.channels?.length) body.channels = [...request.channels];
    if (request.filters && Object.keys(request.filters).length) {
      body.filters = Object.fromEntries(Object.entries(request.filters).map(([k, v]) => [k, [...v]]));
    }
    return {
      apiPath: request.apiPath,
      requestBody: JSON.stringify(body),
      fileName: exportFileName(request.stream, request.window),
    };
  }

  /**
   * `cxone://{api host}` (with its port when not the default) and `{account}.{stream}`: the
   * vendor's table of one account, named by stream because the two GR paths are one dataset.
   */
  datasetFor(account: string, stream: string): DatasetName {
    return { namespace: `cxone://${this.base.host}`, name: `${account}.${stream}` };
  }

  /** Gets a token before the engine reserves a slot: a token endpoint that is down spends nothing. */
  async authorize(): Promise<void> {
    await tokenBeforeSending(() => this.tokens.get());
  }

  /** POSTs the export request. One call is one spent export: it is not retried after a 5xx it may have accepted. */
  async submit(prepared: PreparedExport): Promise<SubmittedExport> {
    const { apiPath, requestBody, fileName } = prepared;
    const url = `${this.options.apiBase}${apiPrefix}/${apiPath}/export-data`;
    const res = await this.call('POST', url, requestBody, 'unprocessed');
    if (res.status === 429 || res.status === 503) {
      // The retries are spent and the API still says it did not take the request (a 429 that
      // says the quota is used up is the quota refusal).
      const error = this.errorFor(res.status, res.text, 'export request');
      if (error instanceof QuotaExhaustedError) throw error;
      throw new RequestNotTakenError(
        `${error.message}, after ${this.options.retry.maxAttempts} attempt(s); the API did not take the request, so no quota is counted`,
        res.status,
      );
    }
    if (res.status !== 200 && res.status !== 202 && res.status !== 201) {
      throw this.errorFor(res.status, res.text, 'export request');
    }
    const location = firstHeader(res.headers.location) ?? firstHeader(res.headers['content-location']);
    const exportId = exportIdFrom(location, res.text);
    if (!exportId) {
      throw new UntrackableExportError(
        `export request answered HTTP ${res.status} without a usable Location header (body: ${JSON.stringify(redact(res.text.slice(0, 300)))})`,
      );
    }
    return { exportId, statusUrl: this.statusUrl(exportId, fileName) };
  }

  statusUrl(exportId: string, fileName: string): string {
    return `${this.options.apiBase}${apiPrefix}/export-data/${encodeURIComponent(exportId)}/status?fileName=${encodeURIComponent(fileName)}`;
  }

  async getStatus(statusUrl: string): Promise<VendorExportStatus> {
    const res = await this.call('GET', statusUrl, undefined, 'all');
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

  /** Streams the file to `dest` whole or not at all (see `downloadFile`). */
  download(downloadUrl: string, dest: string, onProgress?: (bytes: number) => void): Promise<DownloadResult> {
    const { allowedDownloadHosts, allowInsecureDownloads, retry, timeoutMs } = this.options;
    const options = { allowedDownloadHosts, allowInsecureDownloads, retry, timeoutMs };
    const bearer = () => this.tokens.get();
    return downloadFile(
      downloadUrl,
      dest,
      { ...options, apiBase: this.base, sleep: this.sleep, bearer },
      onProgress,
    );
  }

  async serverClock(): Promise<ServerClockReading | undefined> {
    if (!this.lastDate && !this.tokens.lastDate) await this.tokens.get();
    const readings = [this.lastDate, this.tokens.lastDate].filter((r) => r !== undefined);
    return readings.sort((a, b) => b.localTime.getTime() - a.localTime.getTime())[0];
  }

  /**
   * One API call, retried by `rule` with backoff and jitter (Retry-After honoured), the token
   * renewed once on a 401. Returns the last answer, whatever its status, when retries are spent.
   */
  private async call(
    method: 'GET' | 'POST',
    url: string,
    body: string | undefined,
    rule: RetryRule,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
    let renewed = false;
    const send = async (token: string) => {
      const res = await sendRequest(new URL(url), {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body,
        timeoutMs: this.options.timeoutMs,
        connectTimeoutMs: apiConnectTimeoutMs,
      });
      this.lastDate = clockReading(res.headers.date, (this.options.now ?? Date.now)()) ?? this.lastDate;
      return { status: res.statusCode ?? 0, headers: res.headers, text: await readText(res) };
    };
    return withRetry(
      this.options.retry,
      async (attempt) => {
        for (;;) {
          const token =
            rule === 'all' ? await this.tokens.get() : await tokenBeforeSending(() => this.tokens.get());
          let answer: Awaited<ReturnType<typeof send>>;
          try {
            answer = await send(token);
          } catch (err) {
            const notSent = neverSent(err);
            const fail = () => {
              const message = `${method} ${safeUrl(url)} failed: ${(err as Error).message}`;
              throw notSent
                ? new RequestNotSentError(`${message} (not sent)`, { cause: err })
                : new ApiError(message, null, { cause: err });
            };
            // A POST whose connection failed after sending may have been accepted: only retry
            // errors that prove the request never arrived.
            if (rule !== 'all' && !notSent) return fail();
            return again(fail, undefined, () =>
              this.log.warn('network error, retrying', {
                url: safeUrl(url),
                attempt,
                error: (err as Error).message,
              }),
            );
          }
          const { status } = answer;
          if (status === 401 && !renewed) {
            renewed = true;
            this.tokens.invalidate();
            continue;
          }
          if (status === 401) {
            throw new AuthError(
              `the API refused a fresh token (HTTP 401 at ${safeUrl(url)}); check the access key's permissions`,
            );
          }
          const retryable = rule === 'all' ? retryableStatus(status) : status === 429 || status === 503;
          if (!retryable) return done(answer);
          return again(
            () => answer,
            parseRetryAfter(answer.headers['retry-after']),
            (waitMs) => this.log.warn('retrying', { url: safeUrl(url), status, attempt, waitMs }),
          );
        }
      },
      { sleep: this.sleep },
    );
  }

  private errorFor(status: number, text: string, what: 'export request' | 'export status'): Error {
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
      // The engine, which knows the account's 4-month settings, adds what to change.
      return new HorizonError(`the API refused the window under its 4-month rule: ${message}`);
    }
    if (/too many export requests|exports per 24 hours/i.test(message)) {
      return new QuotaExhaustedError(null, `the API refused the export: quota used up (${message})`);
    }
    const described = `${what} answered HTTP ${status}: ${message}`;
    if (what === 'export status' && status === 404) return new ExportNotFoundError(described);
    if (what === 'export request' && status >= 400 && status < 500 && status !== 429)
      return new ExportRefusedError(described, status);
    return new ApiError(described, status);
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
