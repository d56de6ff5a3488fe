import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { SimulatorState } from './simulator-state.js';

/**
 * Sets the answer's `Date` header from the simulator's clock plus the `dateOffsetMs` fault
 * (Node would otherwise date it from the real clock). Call it just before the answer is written.
 */
export function stampDate(sim: SimulatorState, res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('date', new Date(sim.now() + sim.faults.dateOffsetMs).toUTCString());
}

/** Answers with a JSON body and its Content-Length; `headers` add to or override the defaults. */
export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Answers with the export API's error body: message, status code, trace id and exception. */
export function apiError(res: ServerResponse, status: number, message: string): void {
  json(res, status, {
    message,
    statusCode: status,
    traceId: randomUUID(),
    exception: { message, statusCode: status },
  });
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A request listener for an async handler: an error thrown before the answer started becomes a
 * 500 with the API's error body; after that the connection is reset, as a failing server would.
 */
export function listener(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): RequestListener {
  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) apiError(res, 500, (err as Error).message);
      else res.destroy();
    });
  };
}
