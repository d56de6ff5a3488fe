import type { ExportPatch, ExportRecord, NewExportRow } from '../ports/export-record.js';
import type { ExportRow, ExportsTable, NewExport } from './state-tables.js';

/** Each field of an export record and its column in `exports`: the one place the two names meet. */
const columns = {
  ledgerId: 'id',
  account: 'account',
  stream: 'stream',
  apiPath: 'api_path',
  windowStart: 'window_start',
  windowEnd: 'window_end',
  timeZone: 'time_zone',
  requestBody: 'request_body',
  status: 'status',
  countsQuota: 'counts_quota',
  reservedAt: 'reserved_at',
  submittedAt: 'submitted_at',
  vendorExportId: 'vendor_export_id',
  statusUrl: 'status_url',
  fileName: 'file_name',
  readyAt: 'ready_at',
  downloadHost: 'download_host',
  archivePath: 'archive_path',
  bytes: 'bytes',
  sha256: 'sha256',
  downloadedAt: 'downloaded_at',
  rows: 'rows',
  rejectedRows: 'rejected_rows',
  loadedAt: 'loaded_at',
  error: 'error',
  retryable: 'retryable',
  attempts: 'attempts',
  failures: 'failures',
  nextAttemptAt: 'next_attempt_at',
  claimedBy: 'claimed_by',
  claimExpiresAt: 'claim_expires_at',
  updatedAt: 'updated_at',
  exportKey: 'export_key',
} as const satisfies Record<keyof ExportRecord, keyof ExportsTable>;

const num = (v: string | number | null) => (v === null ? null : Number(v));

/** A ledger row as the engine knows it. */
export function toRecord(row: ExportRow): ExportRecord {
  return {
    ledgerId: row.id,
    account: row.account,
    stream: row.stream,
    apiPath: row.api_path,
    windowStart: row.window_start,
    windowEnd: row.window_end,
    timeZone: row.time_zone,
    requestBody: row.request_body,
    status: row.status,
    countsQuota: row.counts_quota,
    reservedAt: row.reserved_at,
    submittedAt: row.submitted_at,
    vendorExportId: row.vendor_export_id,
    statusUrl: row.status_url,
    fileName: row.file_name,
    readyAt: row.ready_at,
    downloadHost: row.download_host,
    archivePath: row.archive_path,
    bytes: num(row.bytes),
    sha256: row.sha256,
    downloadedAt: row.downloaded_at,
    rows: num(row.rows),
    rejectedRows: num(row.rejected_rows),
    loadedAt: row.loaded_at,
    error: row.error,
    retryable: row.retryable,
    attempts: row.attempts,
    failures: row.failures,
    nextAttemptAt: row.next_attempt_at,
    claimedBy: row.claimed_by,
    claimExpiresAt: row.claim_expires_at,
    updatedAt: row.updated_at,
    exportKey: row.export_key,
  };
}

/** A transition's patch (or a new row's fields) as column values. */
export function toColumns(patch: ExportPatch | NewExportRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const column = columns[field as keyof ExportRecord];
    if (column === undefined || column === 'id' || column === 'export_key')
      throw new Error(`no writable ledger column for ${field}`);
    out[column] = value;
  }
  return out;
}

/** A new row's column values. */
export function newRowColumns(row: NewExportRow): Omit<NewExport, 'updated_at'> {
  return toColumns(row) as Omit<NewExport, 'updated_at'>;
}
