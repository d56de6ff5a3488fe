/**
 * One export as the engine knows it: a row of the export ledger, in the engine's own names. Each
 * id has one name, used in logs and summaries too:
 *
 * - `ledgerId`: the ledger's own id (`exports.id`), known from the reservation on; what
 *   `exports retry|abandon ID` and `replay --export ID` take.
 * - `vendorExportId`: the id the vendor gave the export (null until its answer, and for a file
 *   loaded by hand).
 * - `exportKey`: the `_export_id` of the rows the export loaded: the vendor's id, or
 *   `local-<ledgerId>` for a file loaded by hand. It joins a row, its ledger entry and its
 *   rejected rows.
 */
export interface ExportRecord {
  readonly ledgerId: string;
  readonly account: string;
  readonly stream: string;
  readonly apiPath: string;
  readonly windowStart: Date;
  readonly windowEnd: Date;
  readonly timeZone: string;
  readonly requestBody: unknown;
  readonly status: ExportStatus;
  /** Whether the export counts against the account's quota (a request that may have reached the vendor). */
  readonly countsQuota: boolean;
  readonly reservedAt: Date;
  readonly submittedAt: Date | null;
  readonly vendorExportId: string | null;
  readonly statusUrl: string | null;
  readonly fileName: string;
  readonly readyAt: Date | null;
  /** The host of the download URL (never the URL: its query is a signature). */
  readonly downloadHost: string | null;
  readonly archivePath: string | null;
  readonly bytes: number | null;
  readonly sha256: string | null;
  readonly downloadedAt: Date | null;
  readonly rows: number | null;
  readonly rejectedRows: number | null;
  readonly loadedAt: Date | null;
  readonly error: string | null;
  readonly retryable: boolean | null;
  /** Download attempts since the last good one. */
  readonly attempts: number;
  /** Consecutive failures that a retry did not cure. */
  readonly failures: number;
  /** When a sync may try this export again; null: at once. */
  readonly nextAttemptAt: Date | null;
  readonly claimedBy: string | null;
  readonly claimExpiresAt: Date | null;
  readonly updatedAt: Date;
  readonly exportKey: string;
}

/**
 * Where an export is in its life (what this connector has done with it, not the vendor's status):
 * reserved (a quota slot and a ledger row, before the request), submitted (the vendor accepted
 * it), ready (its file can be fetched), downloaded (archived, size and sha256 recorded), loaded
 * (in the destination, in one transaction with its state), failed (nothing more will happen
 * unless an operator retries it).
 */
export type ExportStatus = 'reserved' | 'submitted' | 'ready' | 'downloaded' | 'loaded' | 'failed';

/** The statuses of an export still to be driven on: at most one per stream window. */
export const unfinishedStatuses = [
  'reserved',
  'submitted',
  'ready',
  'downloaded',
] as const satisfies readonly ExportStatus[];

/** Whether an export is still to be driven on. */
export function isUnfinished(status: ExportStatus): boolean {
  return (unfinishedStatuses as readonly string[]).includes(status);
}

/**
 * What a transition writes to a record: only `src/export/export-transitions.ts` builds one with a
 * `status`. The ledger writes it and the update time.
 */
export type ExportPatch = Partial<
  Omit<ExportRecord, 'ledgerId' | 'account' | 'stream' | 'exportKey' | 'updatedAt' | 'reservedAt'>
>;

/** A new export as the engine describes it before its request (or a file loaded by hand). */
export type NewExport = Pick<
  ExportRecord,
  'account' | 'stream' | 'apiPath' | 'windowStart' | 'windowEnd' | 'timeZone' | 'fileName'
> & {
  /** The request body, as JSON text. */
  readonly requestBody: string;
};

/** A new ledger row as a transition makes it: the export, and its first status, flags and claim. */
export type NewExportRow = NewExport &
  Omit<ExportPatch, keyof NewExport> & {
    readonly status: ExportStatus;
    readonly countsQuota: boolean;
    readonly reservedAt: Date;
  };
