import type { RequestDeps } from '../export/export-request.js';
import type { Window } from '../model/window.js';

export interface SyncOptions {
  /** Only these streams (default: every enabled stream). */
  readonly streams?: readonly string[];
  /** An explicit window (Airflow data interval), instead of the incremental one. */
  readonly window?: Window;
  /** At most this many new export requests in this run. */
  readonly maxExports?: number;
  /**
   * Aborted when the run must stop (SIGTERM, SIGINT): no new request or export is started after
   * it; requests in flight finish and are recorded. Its `reason` (a string) is the streams' note.
   */
  readonly signal?: AbortSignal;
  /** Do not wait for a quota slot about to free (`--no-wait`). */
  readonly noWait?: boolean;
  /** This run's id in the run log (the scheduler reads the earlier runs). */
  readonly runId?: string;
}

/** What a sync needs: the ports, the account's run settings, and how many exports to drive at once. */
export interface SyncDeps extends RequestDeps {
  /** Exports polled, downloaded and loaded at once (default 4). */
  readonly parallelExports?: number;
}
