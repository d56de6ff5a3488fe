import type { ExportFiles } from './export-files.js';
import type { FaultPlan } from './fault-plan.js';
import type { HeldAnswers } from './held-answers.js';
import type { SimulatorCredentials, TokenStore } from './token-route.js';

/** An accepted export request, as the simulator keeps it (and as `stats.exportRequests` shows it). */
export interface ExportRecord {
  id: string;
  path: string;
  stream: string;
  startDate: string;
  endDate: string;
  timeZone: string;
  body: unknown;
  createdAt: number;
  /** The `x-sim-client` header of the request, if any: a test tells its own clients apart (an outsider). */
  client?: string;
}

/** Counters a test reads to prove what the connector asked for (also `GET /_sim/stats`). */
export interface SimulatorStats {
  tokenRequests: number;
  exportRequests: ExportRecord[];
  rejectedExportRequests: { path: string; status: number; message: string; at: number; client?: string }[];
  statusRequests: number;
  /** Status requests per export id (every one that passed authorization, whatever its answer). */
  statusRequestsById: Record<string, number>;
  /** Export answers held right now by the `holdExportRequests` fault. */
  heldExportRequests: number;
  /** Exports created whose answer the `dropExportAnswers` fault dropped. */
  droppedExportAnswers: number;
  downloads: number;
  /**
   * Downloads whose socket the `closeAfterBody` fault destroyed after the last byte was written
   * (not counted when the client closed the connection first).
   */
  downloadsClosedAfterBody: number;
  /** Download requests that carried an Authorization header (the bearer token must never go there). */
  downloadsWithAuthorization: number;
  /** Every access token issued (for tests that check none leaks). */
  issuedTokens: string[];
  /** Every download URL handed out (their query strings must never leak). */
  downloadUrls: string[];
}

export function emptyStats(): SimulatorStats {
  return {
    tokenRequests: 0,
    exportRequests: [],
    rejectedExportRequests: [],
    statusRequests: 0,
    statusRequestsById: {},
    heldExportRequests: 0,
    droppedExportAnswers: 0,
    downloads: 0,
    downloadsClosedAfterBody: 0,
    downloadsWithAuthorization: 0,
    issuedTokens: [],
    downloadUrls: [],
  };
}

/**
 * Everything the route handlers of one running simulator share, passed to each of them
 * explicitly: no module state, so several simulators can run in one process.
 */
export interface SimulatorState {
  readonly now: () => number;
  readonly credentials: SimulatorCredentials;
  readonly faults: FaultPlan;
  readonly tokens: TokenStore;
  readonly exports: Map<string, ExportRecord>;
  readonly stats: SimulatorStats;
  readonly files: ExportFiles;
  /** Export answers held by the `holdExportRequests` fault. */
  readonly held: HeldAnswers;
  /** Key of the HMAC that signs download URLs. */
  readonly signKey: Buffer;
  /** Write Location as an absolute URL rather than a path. */
  readonly absoluteLocation: boolean;
  /** The two origins as written into URLs; known once both servers listen. */
  readonly origins: { api: string; download: string };
}
