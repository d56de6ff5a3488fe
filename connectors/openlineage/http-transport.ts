import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { safeUrl } from '../../src/log/redact.js';
import type { LineageTransport } from './lineage-transport.js';

export interface HttpTransportOptions {
  /** The backend's base URL (Marquez: `http://marquez:5000`). */
  readonly url: string;
  /** Joined to `url` (default `api/v1/lineage`, Marquez's API). */
  readonly endpoint: string;
  /** Sent as `Authorization: Bearer {apiKey}`. */
  readonly apiKey?: string | undefined;
  /** The most one event may take, connecting included. */
  readonly timeoutMs: number;
}

/**
 * OpenLineage's HTTP transport: `POST {url}/{endpoint}` with the event as JSON. Any 2xx is
 * delivered; anything else (a refusal, a 4xx or 5xx, no answer within the timeout) is not, and
 * is not sent again: the timeout is the whole budget of an event. User and password in the URL
 * become Basic authentication when no API key is given, so that no credential travels in a URL.
 * On `node:http`, as the vendor's client is (undici would compile its WebAssembly parser, about
 * 25 MB of resident memory, for a few small requests).
 */
export class HttpTransport implements LineageTransport {
  readonly target: string;
  readonly #url: URL;
  readonly #headers: Record<string, string>;
  readonly #agent: HttpAgent;
  readonly #timeoutMs: number;

  constructor(options: HttpTransportOptions) {
    const base = new URL(options.url.replace(/\/*$/, '/'));
    const url = new URL(options.endpoint.replace(/^\/+/, ''), base);
    const basic =
      url.username || url.password
        ? Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString(
            'base64',
          )
        : undefined;
    url.username = '';
    url.password = '';
    this.#url = url;
    this.target = safeUrl(url);
    this.#headers = {
      'content-type': 'application/json',
      ...(options.apiKey
        ? { authorization: `Bearer ${options.apiKey}` }
        : basic
          ? { authorization: `Basic ${basic}` }
          : {}),
    };
    this.#agent =
      url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.#timeoutMs = options.timeoutMs;
  }

  send(event: string, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const send = this.#url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(
        this.#url,
        {
          method: 'POST',
          headers: { ...this.#headers, 'content-length': Buffer.byteLength(event) },
          agent: this.#agent,
          timeout: this.#timeoutMs,
          signal,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (text.length < 1_000) text += chunk;
          });
          res.on('error', reject);
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve();
            const body = text.trim().slice(0, 200);
            reject(new Error(`HTTP ${status}${body ? `: ${body}` : ''}`));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)));
      req.on('error', reject);
      req.end(event);
    });
  }

  async close(): Promise<void> {
    this.#agent.destroy();
  }
}
