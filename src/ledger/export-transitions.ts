import { ConfigError } from '../errors.js';
import type {
  ExportPatch,
  ExportRecord,
  ExportStatus,
  NewExport,
  NewExportRow,
} from '../ports/export-record.js';

/**
 * Every change of an export's status, in one place: each transition checks the status it leaves
 * and returns the whole patch (the ledger writes it with the update time). Nothing else in the
 * code base writes a status (test/unit/export-transitions.test.ts finds any other).
 *
 * ```
 *  reserve ─► reserved ─recordSubmitted─► submitted ─markReady─► ready ─recordDownload─► downloaded ─markLoaded─► loaded
 *                │                          ▲  │                   │                      │  ▲
 *   requestFailed│ abandonUnconfirmed        │  └──vendorFailed─────┤                      │  │ markLoaded (replay)
 *                ▼                          │                      ▼                      │  │
 *              failed ◄──fail / abandon─────┼──────────────────  failed                   │ loaded
 *                │      recordFromJournal   │ requeueDownload (a cut-off or expired download, a malformed or lost file, `exports retry`)
 *                └──────────────────────────┘
 * ```
 */

/** A transition asked of an export in a status it does not leave from: a defect, never a user's error. */
export class ExportTransitionError extends Error {
  constructor(
    transition: string,
    record: Pick<ExportRecord, 'ledgerId' | 'status'>,
    from: readonly ExportStatus[],
  ) {
    super(
      `export ${record.ledgerId}: ${transition} from ${record.status} (it leaves only ${from.join(', ')})`,
    );
    this.name = 'ExportTransitionError';
  }
}

function from(
  transition: string,
  record: Pick<ExportRecord, 'ledgerId' | 'status'>,
  ...statuses: ExportStatus[]
) {
  if (!statuses.includes(record.status)) throw new ExportTransitionError(transition, record, statuses);
}

const noClaim = { claimedBy: null, claimExpiresAt: null } as const;

/** The patch that ends a backoff: a step succeeded, or an operator asked for a retry. */
export const clearedFailures = { failures: 0, nextAttemptAt: null } as const satisfies ExportPatch;

/** The first backoff of an export that keeps failing, doubled per failure. */
const firstBackoffMs = 5 * 60_000;
/** The longest backoff: a stuck export is still tried once a day. */
const maxBackoffMs = 86_400_000;

/** A new export before its request: reserved, counting quota (it may reach the vendor). */
export function reserve(request: NewExport, now: Date): NewExportRow {
  return { ...request, status: 'reserved', countsQuota: true, reservedAt: now };
}

/** A file loaded by hand (`load-file`): downloaded already (its copy follows), counting no quota. */
export function recordLocalFile(request: NewExport, now: Date): NewExportRow {
  return { ...request, status: 'downloaded', countsQuota: false, reservedAt: now };
}

/** The hand-loaded file's copy is in the archive (its path needs the ledger id). */
export function localFileCopied(
  record: ExportRecord,
  file: { archivePath: string; bytes: number; sha256: string },
  now: Date,
): ExportPatch {
  from('localFileCopied', record, 'downloaded');
  return { ...file, downloadedAt: now };
}

/** The vendor accepted the request: its id and status URL. */
export function recordSubmitted(
  record: ExportRecord,
  answer: { vendorExportId: string; statusUrl: string; submittedAt: Date },
): ExportPatch {
  from('recordSubmitted', record, 'reserved');
  return { status: 'submitted', ...answer };
}

/**
 * The vendor's answer, kept in the local journal because the ledger could not take it, applied
 * by a later sync: the record was left reserved (or given up as unconfirmed meanwhile).
 */
export function recordFromJournal(
  record: ExportRecord,
  answer: { vendorExportId: string; statusUrl: string; submittedAt: Date },
): ExportPatch {
  from('recordFromJournal', record, 'reserved', 'failed');
  return { status: 'submitted', ...answer, countsQuota: true, error: null, retryable: null };
}

/**
 * The request failed: refused (nothing created, `countsQuota` false), never sent, or unconfirmed
 * (it may have been, and stays counted). Nobody's work any more: the claim goes too.
 */
export function requestFailed(
  record: ExportRecord,
  failure: { error: string; countsQuota: boolean; retryable: boolean },
): ExportPatch {
  from('requestFailed', record, 'reserved');
  return { status: 'failed', ...failure, ...noClaim };
}

/**
 * The process that reserved the export died before recording the vendor's answer: it stays
 * counted (the request may have been spent) and its window is free to be planned again.
 */
export function abandonUnconfirmed(record: ExportRecord): ExportPatch {
  from('abandonUnconfirmed', record, 'reserved');
  return {
    status: 'failed',
    error: 'interrupted before the export request was confirmed; the window will be requested again',
    retryable: true,
  };
}

/** The vendor's status says the file is ready; only the URL's host is kept (its query is a signature). */
export function markReady(record: ExportRecord, downloadHost: string | null, now: Date): ExportPatch {
  from('markReady', record, 'submitted', 'ready');
  return { status: 'ready', readyAt: now, downloadHost };
}

/** The vendor reports the export failed: its slot is spent, the window is due again. */
export function vendorFailed(record: ExportRecord, error: string): ExportPatch {
  from('vendorFailed', record, 'submitted', 'ready');
  return { status: 'failed', error, retryable: true };
}

/** The file is archived whole, its size and sha256 recorded; a backoff ends. */
export function recordDownload(
  record: ExportRecord,
  file: { archivePath: string; bytes: number; sha256: string },
  now: Date,
): ExportPatch {
  from('recordDownload', record, 'ready');
  return { status: 'downloaded', ...file, downloadedAt: now, error: null, ...clearedFailures };
}

/**
 * Back to `submitted`, so that the file is fetched again through the status endpoint (a fresh
 * URL), with no new export request: a download cut off or expired (`attemptSpent`), a malformed
 * file (`attemptSpent`, the file dropped), an archived file lost or altered (the file dropped).
 */
export function requeueDownload(
  record: ExportRecord,
  error: string,
  options: { attemptSpent: boolean; dropFile: boolean },
): ExportPatch {
  from('requeueDownload', record, 'submitted', 'ready', 'downloaded');
  return {
    status: 'submitted',
    error,
    ...(options.attemptSpent ? { attempts: record.attempts + 1 } : {}),
    ...(options.dropFile ? { archivePath: null, bytes: null, sha256: null } : {}),
  };
}

/**
 * An operator's `exports retry`: a vendor export not loaded goes back to `submitted`, its file
 * and attempts and backoff cleared; the next sync downloads it again through the status.
 */
export function retry(record: ExportRecord): ExportPatch {
  if (!record.vendorExportId || !record.statusUrl)
    throw new ConfigError(
      `export ${record.ledgerId} has no vendor export to download again (status ${record.status}${record.apiPath === 'load-file' ? ', a file loaded by hand: run load-file again' : ''}); \`exports abandon ${record.ledgerId} --reason TEXT\` gives it up`,
    );
  if (record.status === 'reserved')
    throw new ConfigError(
      `export ${record.ledgerId} was never confirmed by the API; the next sync gives it up by itself`,
    );
  if (record.status === 'loaded')
    throw new ConfigError(
      `export ${record.ledgerId} is loaded; \`replay --export ${record.ledgerId}\` loads its archived file again (a download would overwrite newer rows of the window's lookback with older ones)`,
    );
  return {
    status: 'submitted',
    archivePath: null,
    bytes: null,
    sha256: null,
    attempts: 0,
    retryable: null,
    ...clearedFailures,
    error: `retry asked by an operator (exports retry) at status ${record.status}${record.error ? `; last error: ${record.error}` : ''}`,
  };
}

/** An operator's `exports abandon`: given up (it stays counted), its window due again. */
export function abandon(record: ExportRecord, reason: string): ExportPatch {
  if (record.status === 'loaded')
    throw new ConfigError(
      `export ${record.ledgerId} is loaded; nothing to abandon (reset --stream ${record.stream} moves the watermark back)`,
    );
  return {
    status: 'failed',
    retryable: false,
    nextAttemptAt: null,
    error: `abandoned by an operator (exports abandon): ${reason}${record.error ? `; last error: ${record.error}` : ''}`,
  };
}

/**
 * Nothing more will happen to the export by itself: a download the vendor refuses for good, or a
 * file loaded by hand that cannot be loaded (`dropFile`: its archived copy is gone).
 */
export function fail(record: ExportRecord, error: string, options: { dropFile?: boolean } = {}): ExportPatch {
  from('fail', record, 'submitted', 'ready', 'downloaded');
  return { status: 'failed', error, retryable: false, ...(options.dropFile ? { archivePath: null } : {}) };
}

/**
 * A failure a retry did not cure, status unchanged: one more failure, and from the second in a
 * row (or at once when it will not pass by itself: `stuck`) a backoff of 5 minutes doubling per
 * failure, capped at a day; `resetAttempts` starts the download attempts again after it.
 */
export function backOff(
  record: Pick<ExportRecord, 'failures'>,
  error: string,
  now: Date,
  options: { stuck?: boolean; resetAttempts?: boolean } = {},
): ExportPatch {
  const failures = record.failures + 1;
  const steps = options.stuck ? failures - 1 : failures - 2;
  const nextAttemptAt =
    steps < 0 ? null : new Date(now.getTime() + Math.min(maxBackoffMs, firstBackoffMs * 2 ** steps));
  return { error, failures, nextAttemptAt, ...(options.resetAttempts ? { attempts: 0 } : {}) };
}

/** A problem of this side (the archive's disk, the download host policy): the export is kept as it is, with the fix. */
export function keepWithError(error: string): ExportPatch {
  return { error };
}

/** The load committed: rows counted, errors and claim cleared. A replay loads a loaded export again. */
export function markLoaded(
  record: ExportRecord,
  load: { rows: number; rejectedRows: number },
  now: Date,
): ExportPatch {
  from('markLoaded', record, 'downloaded', 'loaded');
  return { status: 'loaded', ...load, loadedAt: now, error: null, retryable: null, ...noClaim };
}

/** The archived file of a loaded export was deleted after `archive.keepDays`. */
export function archivePruned(record: ExportRecord): ExportPatch {
  from('archivePruned', record, 'loaded');
  return { archivePath: null };
}
