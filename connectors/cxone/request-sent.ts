import { RequestNotSentError, TokenEndpointError } from '../../src/errors.js';
import { connectTimeoutCode } from '../http-request.js';

/**
 * The error codes that prove a request never left this host: the connection was refused, the
 * name did not resolve, or the connect timed out (`sendRequest`'s code). Anything else after the
 * connect (a reset, a closed socket, a timeout waiting for the answer) may come after the vendor
 * got the request.
 */
const neverSentCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', connectTimeoutCode]);

/** Whether a network error of the HTTP client proves that no byte of the request was sent. */
export function neverSent(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: { code?: unknown }; errors?: unknown[] } | null;
  if (!e) return false;
  if (neverSentCodes.has(String(e.code)) || neverSentCodes.has(String(e.cause?.code))) return true;
  // Node's happy-eyeballs connect reports one error per address tried.
  return Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every(neverSent);
}

/**
 * Gets a token for a request that spends quota: a token endpoint that fails (unreachable, 5xx
 * after its retries) means the request was never sent, so it becomes a {@link RequestNotSentError}.
 * A refusal of the credentials stays an `AuthError`.
 */
export async function tokenBeforeSending(get: () => Promise<string>): Promise<string> {
  try {
    return await get();
  } catch (err) {
    if (err instanceof TokenEndpointError) {
      throw new RequestNotSentError(`no access token, so nothing was sent: ${err.message}`, { cause: err });
    }
    throw err;
  }
}
