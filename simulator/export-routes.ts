import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { downloadUrl } from './file-server.js';
import { apiError, json, readBody, stampDate } from './http-reply.js';
import { checkExportRequest, streamOfTable } from './request-validation.js';
import type { ExportRecord, SimulatorState } from './simulator-state.js';
import { authorize } from './token-route.js';

/**
 * `POST /observabilitydashboard/v2/tables/{table}/export-data`: validates the body, counts the
 * export against the quota and answers 202 with a Location to its status (relative unless the
 * simulator was started with `absoluteLocation`). Every rejection is recorded in the stats. Once
 * the export exists, `dropExportAnswers` destroys the connection instead of answering and
 * `holdExportRequests` holds the answer until released.
 */
export async function exportRoute(
  sim: SimulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  tablePath: string,
  fullPath: string,
): Promise<void> {
  if (!authorize(sim, req, res, fullPath)) return;
  if (sim.faults.takeFailure('export', res)) return;
  const header = req.headers['x-sim-client'];
  const client = typeof header === 'string' ? { client: header } : {};
  const reject = (status: number, message: string) => {
    sim.stats.rejectedExportRequests.push({ path: tablePath, status, message, at: sim.now(), ...client });
    apiError(res, status, message);
  };
  const stream = streamOfTable(tablePath);
  if (!stream) return reject(404, `Unknown table ${tablePath}`);
  const refusal = sim.faults.refusalOf(tablePath);
  if (refusal) {
    await readBody(req);
    return reject(refusal.status, refusal.message);
  }
  const now = sim.now();
  const check = checkExportRequest(stream, tablePath, await readBody(req), {
    now,
    quota: sim.faults.quota,
    recentExports: sim.stats.exportRequests.filter((e) => e.createdAt > now - 86_400_000).length,
  });
  if (!check.ok) return reject(400, check.message);
  const id = randomUUID();
  const rec: ExportRecord = {
    id,
    path: tablePath,
    stream,
    ...check.request,
    createdAt: sim.now(),
    ...client,
  };
  sim.exports.set(id, rec);
  sim.stats.exportRequests.push(rec);
  const statusPath = `/observabilitydashboard/v2/tables/export-data/${id}/status?fileName=export`;
  const answer = () => {
    stampDate(sim, res);
    res.writeHead(202, {
      location: sim.absoluteLocation ? `${sim.origins.api}${statusPath}` : statusPath,
      'content-length': '0',
    });
    res.end();
  };
  if (sim.faults.takeDroppedAnswer()) {
    sim.stats.droppedExportAnswers++;
    res.destroy();
  } else if (sim.faults.holdExportRequests) sim.held.hold(res, answer);
  else answer();
}

/**
 * `GET /observabilitydashboard/v2/tables/export-data/{id}/status`: Pending while the export is
 * processing, then Completed with a signed download URL (already expired when a fault says so);
 * 404 for an unknown export, or one the `forgetExports` fault makes the vendor forget.
 */
export function statusRoute(
  sim: SimulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  url: URL,
): void {
  if (!authorize(sim, req, res, url.pathname)) return;
  sim.stats.statusRequests++;
  sim.stats.statusRequestsById[id] = (sim.stats.statusRequestsById[id] ?? 0) + 1;
  if (sim.faults.takeFailure('status', res)) return;
  const rec = sim.faults.forgets(id) ? undefined : sim.exports.get(id);
  if (!rec) {
    apiError(res, 404, `Export ${id} not found`);
    return;
  }
  const fileName = url.searchParams.get('fileName') ?? 'export';
  if (sim.now() < rec.createdAt + sim.faults.processingMs) {
    json(res, 200, { status: 'Pending', exportId: id });
    return;
  }
  if (sim.faults.failsExportsOf(rec.path)) {
    json(res, 200, { status: 'Failed', exportId: id, message: 'The export could not be generated' });
    return;
  }
  const expires = sim.faults.takeExpiredUrl() ? sim.now() - 1 : sim.now() + sim.faults.urlTtlMs;
  const dl = downloadUrl(sim, id, fileName, expires);
  sim.stats.downloadUrls.push(dl);
  json(res, 200, { status: 'Completed', exportId: id, downloadUrl: dl });
}
