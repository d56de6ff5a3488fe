import { type IncomingMessage, type OutgoingHttpHeaders, request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';

/**
 * The `code` of a request whose connection (TCP, and TLS for https) was not made in time: not a
 * byte of the request left this host (see `neverSent`).
 */
export const connectTimeoutCode = 'CONNECT_TIMEOUT';

/** How long an API call's connection may take: undici's default, kept when undici was replaced. */
export const apiConnectTimeoutMs = 10_000;

export interface HttpRequestInit {
  readonly method: 'GET' | 'POST';
  readonly headers: OutgoingHttpHeaders;
  readonly body?: string | undefined;
  /** How long the server may stay silent: for the answer's head, and between body chunks. */
  readonly timeoutMs: number;
  /** How long the connection may take (default, and at most, `timeoutMs`). */
  readonly connectTimeoutMs?: number;
  /** Aborts the request (its promise, or the answer's stream, fails). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * One HTTP request on `node:http`/`node:https`, resolved with the answer's head; a body cut off
 * or silent past the timeout makes the answer's stream fail; a connection not made in time fails
 * with `connectTimeoutCode`.
 *
 * The vendor's client and the OpenLineage transport are built on this rather than undici: undici parses HTTP with llhttp
 * compiled to WebAssembly, and compiling it on the first request cost a sync about 25 MB of
 * resident memory, a sixth of the benchmark's peak; Node's own parser is native. Idle
 * connections are kept alive by Node's global agents, as undici's pool kept them.
 */
export function sendRequest(url: URL, init: HttpRequestInit): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let answer: IncomingMessage | undefined;
    let connected = false;
    const send = url.protocol === 'https:' ? httpsRequest : request;
    const options = {
      method: init.method,
      headers: init.headers,
      timeout: init.timeoutMs,
      ...(init.signal ? { signal: init.signal } : {}),
    };
    const req = send(url, options, (res) => {
      answer = res;
      resolve(res);
    });
    const fail = (err: Error) => {
      answer?.destroy(err);
      req.destroy(err);
    };
    const connectFailure = (ms: number) =>
      Object.assign(new Error(`no connection to ${url.host} within ${ms} ms`), { code: connectTimeoutCode });
    req.on('socket', (socket: Socket) => {
      if (req.reusedSocket) {
        connected = true;
        return;
      }
      const ms = Math.min(init.connectTimeoutMs ?? init.timeoutMs, init.timeoutMs);
      const timer = setTimeout(() => fail(connectFailure(ms)), ms);
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
        connected = true;
        clearTimeout(timer);
      });
      socket.once('close', () => clearTimeout(timer));
    });
    req.on('timeout', () =>
      fail(
        connected
          ? new Error(`no data from the server for ${init.timeoutMs} ms`)
          : connectFailure(init.timeoutMs),
      ),
    );
    // After the head, failures reach the caller through the answer's stream.
    req.on('error', reject);
    req.end(init.body);
  });
}
