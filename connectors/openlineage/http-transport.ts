import { safeUrl } from '../../src/log/redact.js';
import { sendRequest } from '../http-request.js';
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
 * On `node:http` through `sendRequest`, as the vendor's client is (undici would compile its
 * WebAssembly parser, about 25 MB of resident memory, for a few small requests).
 */
export class HttpTransport implements LineageTransport {
  readonly target: string;
  readonly #url: URL;
  readonly #headers: Record<string, string>;
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
    this.#timeoutMs = options.timeoutMs;
  }

  async send(event: string, signal: AbortSignal): Promise<void> {
    const res = await sendRequest(this.#url, {
      method: 'POST',
      headers: { ...this.#headers, 'content-length': Buffer.byteLength(event) },
      body: event,
      timeoutMs: this.#timeoutMs,
      signal,
    });
    let text = '';
    res.setEncoding('utf8');
    for await (const chunk of res) if (text.length < 1_000) text += chunk;
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const body = text.trim().slice(0, 200);
      throw new Error(`HTTP ${status}${body ? `: ${body}` : ''}`);
    }
  }

  async close(): Promise<void> {
    // Idle keep-alive connections are the global agent's, and never hold the process open.
  }
}
