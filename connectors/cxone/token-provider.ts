import { text as readText } from 'node:stream/consumers';
import { AuthError, retryableStatus, TokenEndpointError } from '../../src/errors.js';
import type { Logger } from '../../src/log/logger.js';
import { redact, registerSecret } from '../../src/log/redact.js';
import type { ServerClockReading } from '../../src/ports/export-api.js';
import {
  again,
  defaultRetryPolicy,
  done,
  parseRetryAfter,
  type RetryPolicy,
  realSleep,
  type Sleep,
  withRetry,
} from '../../src/retry/retry.js';
import { apiConnectTimeoutMs, sendRequest } from '../http-request.js';

export interface TokenCredentials {
  readonly authUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly accessKey: string;
  readonly accessSecret: string;
  /** `post` (client_secret_post, the vendor's registration) or `basic` (client_secret_basic). */
  readonly clientAuth: 'post' | 'basic';
  /** Where the credentials are in the config, for messages (default `account`; `accounts.<key>`). */
  readonly settingsPath?: string;
  /** How long the token endpoint may take to answer, and to send its body (`account.httpTimeoutSeconds`). */
  readonly timeoutMs?: number;
}

/**
 * Gets and caches the access token (password grant) in memory only. Renews it before expiry,
 * with a margin, and on demand after a 401 (`invalidate`).
 */
export class TokenProvider {
  private token: { value: string; expiresAt: number } | undefined;
  private inflight: Promise<string> | undefined;
  /** The `Date` header of the token endpoint's latest answer, and when it arrived. */
  lastDate: ServerClockReading | undefined;

  constructor(
    private readonly creds: TokenCredentials,
    private readonly log: Logger,
    private readonly retry: RetryPolicy = defaultRetryPolicy,
    private readonly now: () => number = Date.now,
    private readonly sleep: Sleep = realSleep,
  ) {}

  async get(): Promise<string> {
    if (this.token && this.token.expiresAt > this.now()) return this.token.value;
    this.inflight ??= this.fetchToken().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** Forgets the cached token (after a 401), so that the next `get` asks for a new one. */
  invalidate(): void {
    this.token = undefined;
  }

  private async fetchToken(): Promise<string> {
    const form = new URLSearchParams({
      grant_type: 'password',
      username: this.creds.accessKey,
      password: this.creds.accessSecret,
    });
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (this.creds.clientAuth === 'basic') {
      const basic = Buffer.from(
        `${encodeURIComponent(this.creds.clientId)}:${encodeURIComponent(this.creds.clientSecret)}`,
      ).toString('base64');
      registerSecret(basic);
      headers.authorization = `Basic ${basic}`;
    } else {
      form.set('client_id', this.creds.clientId);
      form.set('client_secret', this.creds.clientSecret);
    }
    // Getting a token spends nothing at the vendor: network errors, 429 and 5xx are retried.
    const res = await withRetry<{ status: number; text: string }>(
      this.retry,
      async () => {
        let status: number;
        let text: string;
        let retryAfter: string | string[] | undefined;
        try {
          const res = await sendRequest(new URL(this.creds.authUrl), {
            method: 'POST',
            headers,
            body: form.toString(),
            timeoutMs: this.creds.timeoutMs ?? 120_000,
            connectTimeoutMs: apiConnectTimeoutMs,
          });
          status = res.statusCode ?? 0;
          retryAfter = res.headers['retry-after'];
          this.lastDate = clockReading(res.headers.date, this.now()) ?? this.lastDate;
          text = await readText(res);
        } catch (err) {
          return again(() => {
            throw new TokenEndpointError(
              `token endpoint ${this.creds.authUrl} unreachable: ${(err as Error).message}`,
              null,
              { cause: err },
            );
          });
        }
        const answer = { status, text };
        if (retryableStatus(status)) return again(() => answer, parseRetryAfter(retryAfter));
        return done(answer);
      },
      { sleep: this.sleep },
    );
    const { status, text } = res;
    if (status === 200) return this.accept(text);
    if (status === 400 || status === 401 || status === 403) {
      throw new AuthError(
        `the token endpoint refused the credentials (HTTP ${status}${describeOAuthError(text)}); check ${this.creds.settingsPath ?? 'account'}.clientId, clientSecret, accessKey and accessSecret${this.creds.clientAuth === 'post' ? ` (or try ${this.creds.settingsPath ?? 'account'}.clientAuth: basic)` : ''}`,
      );
    }
    throw new TokenEndpointError(
      `token endpoint answered HTTP ${status}: ${redact(text.slice(0, 300))}`,
      status,
    );
  }

  private accept(text: string): string {
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new TokenEndpointError('token endpoint answered 200 with a body that is not JSON', 200);
    }
    if (typeof body.access_token !== 'string' || body.access_token === '') {
      throw new TokenEndpointError('token endpoint answered 200 without access_token', 200);
    }
    registerSecret(body.access_token);
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in ?? 3600);
    const lifeMs = (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600) * 1000;
    // Renew a minute early, or at 80% of a short life.
    const margin = Math.min(60_000, lifeMs * 0.2);
    this.token = { value: body.access_token, expiresAt: this.now() + lifeMs - margin };
    this.log.debug('token acquired', { expiresInSeconds: Math.round(lifeMs / 1000) });
    return body.access_token;
  }
}

function describeOAuthError(text: string): string {
  try {
    const b = JSON.parse(text) as { error?: unknown; error_description?: unknown; message?: unknown };
    const parts = [b.error, b.error_description ?? b.message].filter((p) => typeof p === 'string');
    return parts.length ? `: ${redact(parts.join(': '))}` : '';
  } catch {
    return '';
  }
}

/** A `Date` header read as a clock reading taken at `localMs`; undefined when absent or unreadable. */
export function clockReading(
  header: string | string[] | undefined,
  localMs: number,
): ServerClockReading | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const serverMs = value ? Date.parse(value) : Number.NaN;
  return Number.isNaN(serverMs)
    ? undefined
    : { serverTime: new Date(serverMs), localTime: new Date(localMs) };
}
