import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Lifecycle of an export in the ledger (SPEC section 3): what this connector has done with it,
 * not the vendor's status of the export (which the source parses into its own type).
 */
export type LedgerStatus = 'reserved' | 'submitted' | 'ready' | 'downloaded' | 'loaded' | 'failed';
/** The statuses of an export still to be driven on: at most one per stream window (a unique index). */
export const unfinishedStatuses = [
  'reserved',
  'submitted',
  'ready',
  'downloaded',
] as const satisfies readonly LedgerStatus[];

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type BigIntCol = ColumnType<string, number | string | bigint, number | string | bigint>;

export interface ExportsTable {
  id: Generated<string>;
  account: string;
  stream: string;
  api_path: string;
  window_start: Timestamp;
  window_end: Timestamp;
  time_zone: string;
  request_body: ColumnType<unknown, string, string>;
  status: LedgerStatus;
  counts_quota: Generated<boolean>;
  reserved_at: Timestamp;
  submitted_at: Timestamp | null;
  vendor_export_id: string | null;
  status_url: string | null;
  file_name: string;
  ready_at: Timestamp | null;
  download_host: string | null;
  archive_path: string | null;
  bytes: BigIntCol | null;
  sha256: string | null;
  downloaded_at: Timestamp | null;
  rows: BigIntCol | null;
  rejected_rows: BigIntCol | null;
  loaded_at: Timestamp | null;
  error: string | null;
  retryable: boolean | null;
  attempts: Generated<number>;
  /** Consecutive failures that a retry did not cure (migration 0002). */
  failures: Generated<number>;
  /** When a sync may try this export again; null: at once (migration 0002). */
  next_attempt_at: Timestamp | null;
  claimed_by: string | null;
  claim_expires_at: Timestamp | null;
  updated_at: Timestamp;
}

export interface WatermarksTable {
  account: string;
  stream: string;
  watermark: Timestamp;
  export_id: BigIntCol | null;
  updated_at: Timestamp;
}

export interface GapsTable {
  id: Generated<string>;
  account: string;
  stream: string;
  gap_start: Timestamp;
  gap_end: Timestamp;
  reason: string;
  recorded_at: Timestamp;
}

export interface RunsTable {
  id: Generated<string>;
  command: string;
  account: string | null;
  started_at: Timestamp;
  ended_at: Timestamp | null;
  outcome: string | null;
  exit_code: number | null;
  summary: ColumnType<unknown, string | null, string | null>;
}

export interface RejectedRowsTable {
  id: Generated<string>;
  export_id: BigIntCol;
  stream: string;
  line: BigIntCol;
  raw: string;
  reason: string;
  recorded_at: Timestamp;
}

export interface QuotaBlocksTable {
  account: string;
  blocked_until: Timestamp;
  reason: string;
  recorded_at: Timestamp;
}

export interface StateDatabase {
  exports: ExportsTable;
  watermarks: WatermarksTable;
  gaps: GapsTable;
  runs: RunsTable;
  rejected_rows: RejectedRowsTable;
  quota_blocks: QuotaBlocksTable;
}

export type ExportRow = Selectable<ExportsTable>;
export type NewExport = Insertable<ExportsTable>;
export type ExportPatch = Updateable<ExportsTable>;
export type GapRow = Selectable<GapsTable>;

/** A new ledger row as the caller describes it: its status, times, quota flag and claim are the ledger's. */
export type NewExportInput = Omit<
  NewExport,
  'status' | 'counts_quota' | 'reserved_at' | 'updated_at' | 'claimed_by' | 'claim_expires_at'
>;
