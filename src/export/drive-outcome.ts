import type { WindowLoadResult } from '../load/window-loader.js';
import type { Logger } from '../log/logger.js';
import type { HorizonRule } from '../plan/planner.js';
import type { Clock } from '../ports/clock.js';
import type { Destination } from '../ports/destination.js';
import type { ExportApi } from '../ports/export-api.js';
import type { ExportRecord } from '../ports/export-record.js';
import type { LoadObserver } from '../ports/lineage.js';
import type { StatePorts } from '../ports/state-ports.js';
import type { Sleep } from '../retry/retry.js';

/** What driving an export needs: the ports, the clock, this process's claim owner, the archive. */
export interface LifecycleDeps {
  readonly state: StatePorts;
  readonly client: ExportApi;
  readonly destination: Destination;
  readonly clock: Clock;
  readonly log: Logger;
  readonly owner: string;
  readonly archiveDir: string;
  readonly poll: { intervalMs: number; maxIntervalMs: number; budgetMs: number };
  /** Aborted on SIGTERM/SIGINT: a poll stops waiting (the export stays in flight, resumable). */
  readonly signal?: AbortSignal | undefined;
  /** Every wait of the drive and the request (polls, retries); a test's moves its clock. */
  readonly sleep?: Sleep | undefined;
  /** The config's key when it has one account: a table's rows from before `_account` are its. */
  readonly soleAccount?: string | undefined;
  /** Told of every load (lineage); never fails or slows one. */
  readonly lineage?: LoadObserver | undefined;
  /** Test hook: a load stops once this many rows are with the destination, until the process is killed. */
  readonly pauseLoadAfterRows?: number | undefined;
  /** The account's 4-month rule: where a stream with no watermark and no `start` begins. */
  readonly horizon: HorizonRule;
}

/** Where a drive of one export ended, with its record as written. */
export type DriveOutcome =
  | { kind: 'loaded'; record: ExportRecord; load: WindowLoadResult }
  | { kind: 'in_flight'; record: ExportRecord; reason: string }
  /** An export abandoned without a result (its reservation was interrupted): the window is due again. */
  | { kind: 'abandoned'; record: ExportRecord; reason: string }
  | { kind: 'failed'; record: ExportRecord; error: Error; retryable: boolean };

/** The log of one export's drive. */
export type ExportLog = ReturnType<Logger['child']>;
