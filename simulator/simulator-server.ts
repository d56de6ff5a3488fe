import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExportFiles } from './export-files.js';
import { exportRoute, statusRoute } from './export-routes.js';
import { FaultPlan, type SimulatorFaults } from './fault-plan.js';
import { serveDownload } from './file-server.js';
import { HeldAnswers } from './held-answers.js';
import { apiError, json, listener, readBody, stampDate } from './http-reply.js';
import type { DataOptions } from './simulator-data.js';
import { emptyStats, type SimulatorState, type SimulatorStats } from './simulator-state.js';
import { type SimulatorCredentials, TokenStore, tokenRoute } from './token-route.js';

export type { FailureFault, SimulatorFaults } from './fault-plan.js';
export { horizonMessage, quotaMessage } from './request-validation.js';
export type { ExportRecord, SimulatorStats } from './simulator-state.js';
export type { SimulatorCredentials } from './token-route.js';

export interface SimulatorOptions {
  port?: number;
  downloadPort?: number;
  host?: string;
  clientId?: string;
  clientSecret?: string;
  accessKey?: string;
  accessSecret?: string;
  data?: DataOptions;
  faults?: SimulatorFaults;
  now?: () => number;
  /** Serve this file for every export of a stream (the benchmark's pre-generated CSV). */
  staticFiles?: Record<string, string>;
  /** Host name written into URLs (download links) when it differs from the bind address (containers). */
  publicHost?: string;
  /** Write Location as an absolute URL (default relative). */
  absoluteLocation?: boolean;
}

export interface RunningSimulator {
  readonly apiBase: string;
  readonly authUrl: string;
  readonly downloadBase: string;
  readonly credentials: SimulatorCredentials;
  readonly stats: SimulatorStats;
  /** Merges faults into those in force (as `POST /_sim/faults`). */
  setFaults(faults: SimulatorFaults): void;
  /**
   * Answers every export request held by `holdExportRequests` normally (202 with Location), as
   * `POST /_sim/release`; returns how many were released. The fault stays on for later requests.
   */
  releaseHeld(): number;
  /** Stops both origins; held export answers have their connections destroyed. */
  close(): Promise<void>;
}

/**
 * The export API simulator: token endpoint, the five export paths with the documented request
 * validation and both documented 400s, Location, status, and signed expiring downloads from a
 * second origin (another port). Faults switch at run time through `setFaults` or
 * `POST /_sim/faults`; `GET /_sim/stats` shows the counters; held export answers are released
 * by `releaseHeld` or `POST /_sim/release` (answered `{ released: n }`).
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? Date.now;
  const tokens = new TokenStore(now);
  const faults = new FaultPlan(options.faults, () => tokens.revokeAll());
  const stats = emptyStats();
  const sim: SimulatorState = {
    now,
    credentials: {
      clientId: options.clientId ?? 'sim-client',
      clientSecret: options.clientSecret ?? 'sim-client-secret',
      accessKey: options.accessKey ?? 'SIMACCESSKEY==',
      accessSecret: options.accessSecret ?? 'sim-access-secret',
    },
    faults,
    tokens,
    exports: new Map(),
    stats,
    files: await ExportFiles.create(faults, options.data, options.staticFiles),
    held: new HeldAnswers(stats),
    signKey: randomBytes(16),
    absoluteLocation: options.absoluteLocation === true,
    origins: { api: '', download: '' },
  };

  const api = createServer(listener((req, res) => routeApi(sim, req, res)));
  const downloads = createServer(listener((req, res) => serveDownload(sim, req, res)));
  await new Promise<void>((r) => api.listen(options.port ?? 0, host, r));
  await new Promise<void>((r) => downloads.listen(options.downloadPort ?? 0, host, r));
  const shown = options.publicHost ?? host;
  const hostInUrl = shown.includes(':') ? `[${shown}]` : shown;
  sim.origins.api = `http://${hostInUrl}:${(api.address() as AddressInfo).port}`;
  sim.origins.download = `http://${hostInUrl}:${(downloads.address() as AddressInfo).port}`;

  return {
    apiBase: sim.origins.api,
    authUrl: `${sim.origins.api}/auth/token`,
    downloadBase: sim.origins.download,
    credentials: sim.credentials,
    stats: sim.stats,
    setFaults: (f) => setFaults(sim, f),
    releaseHeld: () => sim.held.releaseAll(),
    async close() {
      sim.held.destroyAll();
      await Promise.all([closeServer(api), closeServer(downloads)]);
      await sim.files.remove();
    },
  };
}

/** Merges `update` into the faults; turning `holdExportRequests` off releases the held answers. */
function setFaults(sim: SimulatorState, update: SimulatorFaults): void {
  sim.faults.update(update);
  if (!sim.faults.holdExportRequests) sim.held.releaseAll();
}

/** The API origin's routes: token, the three test controls, export status and export requests. */
async function routeApi(sim: SimulatorState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const latencyMs = sim.faults.latencyMs;
  if (latencyMs) await new Promise((r) => setTimeout(r, latencyMs));
  stampDate(sim, res);
  const url = new URL(req.url ?? '/', sim.origins.api);
  const path = url.pathname;
  if (req.method === 'POST' && path === '/auth/token') return tokenRoute(sim, req, res);
  if (path === '/_sim/faults' && req.method === 'POST') {
    setFaults(sim, JSON.parse(await readBody(req)) as SimulatorFaults);
    return json(res, 200, sim.faults.current);
  }
  if (path === '/_sim/release' && req.method === 'POST') {
    await readBody(req);
    return json(res, 200, { released: sim.held.releaseAll() });
  }
  if (path === '/_sim/stats') return json(res, 200, sim.stats);
  const statusMatch = /^\/observabilitydashboard\/v2\/tables\/export-data\/([^/]+)\/status$/.exec(path);
  if (req.method === 'GET' && statusMatch)
    return statusRoute(sim, req, res, decodeURIComponent(statusMatch[1]!), url);
  const exportMatch = /^\/observabilitydashboard\/v2\/tables\/(.+)\/export-data$/.exec(path);
  if (req.method === 'POST' && exportMatch) return exportRoute(sim, req, res, exportMatch[1]!, path);
  apiError(res, 404, `no route for ${req.method} ${path}`);
}

async function closeServer(s: Server): Promise<void> {
  s.closeAllConnections();
  await new Promise<void>((r) => s.close(() => r()));
}
