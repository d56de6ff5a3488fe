import { createHmac } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiError, stampDate } from './http-reply.js';
import type { SimulatorState } from './simulator-state.js';

function sign(sim: SimulatorState, id: string, expires: number): string {
  return createHmac('sha256', sim.signKey).update(`${id}:${expires}`).digest('hex');
}

/** The signed URL of an export's file on the download origin, valid until `expires` (epoch ms). */
export function downloadUrl(sim: SimulatorState, id: string, fileName: string, expires: number): string {
  return `${sim.origins.download}/files/${id}/${encodeURIComponent(fileName)}.csv?expires=${expires}&sig=${sign(sim, id, expires)}`;
}

/**
 * The second origin: export files behind signed URLs that expire, as the real API hands out
 * pre-signed storage links. A download needs no bearer token (one that carries it anyway is
 * counted: the connector must never send it there).
 *
 * `GET /files/{id}/{name}.csv?expires&sig`: 404 for an unknown file, 403 for a bad signature,
 * the storage's XML 403 once expired; then the file, cut short or throttled when a fault says so,
 * written in small pieces (`downloadChunkBytes`) and followed by closing the socket
 * (`closeAfterBody`) when faults say so.
 */
export async function serveDownload(
  sim: SimulatorState,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  stampDate(sim, res);
  const url = new URL(req.url ?? '/', sim.origins.download);
  const m = /^\/files\/([^/]+)\/([^/]+)\.csv$/.exec(url.pathname);
  const rec = m ? sim.exports.get(m[1]!) : undefined;
  if (!m || !rec) return apiError(res, 404, 'no such file');
  const expires = Number(url.searchParams.get('expires'));
  if (url.searchParams.get('sig') !== sign(sim, rec.id, expires)) return apiError(res, 403, 'bad signature');
  if (expires < sim.now()) {
    res.writeHead(403, { 'content-type': 'application/xml' });
    res.end('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
    return;
  }
  if (req.headers.authorization) sim.stats.downloadsWithAuthorization++;
  if (sim.faults.takeFailure('download', res)) return;
  sim.stats.downloads++;
  const path = await sim.files.fileFor(rec, decodeURIComponent(m[2]!));
  const size = (await stat(path)).size;
  const truncation = sim.faults.takeTruncation();
  if (truncation) return sendTruncated(res, path, size, truncation.withContentLength);
  const closeAfterBody = sim.faults.closeAfterBody;
  res.writeHead(200, {
    'content-type': 'text/csv; charset=utf-8',
    'content-length': String(size),
    ...(closeAfterBody ? { connection: 'close' } : {}),
  });
  const stallAfter = sim.faults.stallDownloadsAfterBytes;
  if (stallAfter) return sendStalled(res, path, Math.min(stallAfter, size - 1));
  const rate = sim.faults.downloadBytesPerSecond;
  if (rate) return sendThrottled(res, path, rate);
  const chunk = sim.faults.downloadChunkBytes;
  const rs = createReadStream(path, chunk ? { highWaterMark: Math.max(1, chunk) } : {});
  if (closeAfterBody) {
    const socket = res.socket;
    res.once('finish', () => {
      socket?.destroy();
      sim.stats.downloadsClosedAfterBody++;
    });
  }
  rs.pipe(res);
  res.on('close', () => rs.destroy());
}

/**
 * Cuts the file inside its last record (after the header, before the final line end). With the
 * full Content-Length announced the connection is then reset; without it the body just ends.
 */
function sendTruncated(res: ServerResponse, path: string, size: number, withContentLength: boolean): void {
  const cut = Math.max(1, Math.floor(size * 0.7));
  const headers: Record<string, string> = { 'content-type': 'text/csv; charset=utf-8' };
  if (withContentLength) headers['content-length'] = String(size);
  res.writeHead(200, headers);
  const rs = createReadStream(path, { start: 0, end: cut - 1 });
  rs.pipe(res, { end: false });
  rs.on('end', () => (withContentLength ? res.destroy() : res.end()));
}

/** Sends the first `bytes` of the file and then nothing, holding the response open. */
function sendStalled(res: ServerResponse, path: string, bytes: number): void {
  const rs = createReadStream(path, { start: 0, end: Math.max(0, bytes - 1) });
  rs.pipe(res, { end: false });
  res.on('close', () => rs.destroy());
}

/** Sends the file at about `rate` bytes a second, in 10 slices a second. */
function sendThrottled(res: ServerResponse, path: string, rate: number): void {
  const rs = createReadStream(path, { highWaterMark: Math.max(1, Math.floor(rate / 10)) });
  rs.on('data', (chunk) => {
    res.write(chunk);
    rs.pause();
    setTimeout(() => rs.resume(), 100);
  });
  rs.on('end', () => res.end());
  res.on('close', () => rs.destroy());
}
