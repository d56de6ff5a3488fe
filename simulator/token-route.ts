import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { json, readBody } from './http-reply.js';
import type { SimulatorState } from './simulator-state.js';

/** The credentials the token endpoint accepts: client id and secret, and the access key pair. */
export interface SimulatorCredentials {
  clientId: string;
  clientSecret: string;
  accessKey: string;
  accessSecret: string;
}

/** Access tokens issued so far, each with its expiry. */
export class TokenStore {
  readonly #expiries = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  issue(ttlSeconds: number): string {
    const value = `sim.${randomBytes(24).toString('base64url')}`;
    this.#expiries.set(value, this.now() + ttlSeconds * 1000);
    return value;
  }

  isValid(token: string): boolean {
    const exp = this.#expiries.get(token);
    return exp !== undefined && exp > this.now();
  }

  revokeAll(): void {
    this.#expiries.clear();
  }
}

/**
 * `POST /auth/token`: the password grant, with the client in the form or in Basic auth, and the
 * access key pair as username and password; errors as the real endpoint words them.
 */
export async function tokenRoute(
  sim: SimulatorState,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  sim.stats.tokenRequests++;
  if (sim.faults.takeFailure('token', res)) return;
  const form = new URLSearchParams(await readBody(req));
  let clientId = form.get('client_id');
  let clientSecret = form.get('client_secret');
  const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
  if (basic) {
    const [id, secret] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
    clientId = decodeURIComponent(id ?? '');
    clientSecret = decodeURIComponent(secret ?? '');
  }
  if (form.get('grant_type') !== 'password') {
    return json(res, 400, {
      error: 'unsupported_grant_type',
      error_description: 'grant_type must be password',
    });
  }
  const creds = sim.credentials;
  if (clientId !== creds.clientId || clientSecret !== creds.clientSecret) {
    return json(res, 401, { error: 'invalid_client', error_description: 'Client authentication failed' });
  }
  if (form.get('username') !== creds.accessKey || form.get('password') !== creds.accessSecret) {
    return json(res, 400, { error: 'invalid_grant', error_description: 'Invalid access key or secret' });
  }
  const ttl = sim.faults.tokenTtlSeconds;
  const value = sim.tokens.issue(ttl);
  sim.stats.issuedTokens.push(value);
  json(res, 200, {
    access_token: value,
    token_type: 'Bearer',
    expires_in: ttl,
    refresh_token: randomUUID(),
    id_token: 'x.y.z',
  });
}

/** True when the request carries a live bearer token; otherwise answers the gateway's 401 for `path`. */
export function authorize(
  sim: SimulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): boolean {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  if (m && sim.tokens.isValid(m[1]!)) return true;
  json(res, 401, { timestamp: new Date(sim.now()).toISOString(), status: 401, error: 'Unauthorized', path });
  return false;
}
