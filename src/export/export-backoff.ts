import type { ExportPatch, ExportRow } from '../state/state-tables.js';

/** The first backoff of an export that keeps failing, doubled per failure. */
const firstBackoffMs = 5 * 60_000;
/** The longest backoff: a stuck export is still tried once a day. */
const maxBackoffMs = 86_400_000;

/**
 * The ledger patch of an export failure that a retry did not cure: one more failure, and from
 * the second one in a row (or at once, for a failure known not to pass by itself: `stuck`) a
 * backoff of 5 minutes doubling per failure, capped at a day. A sync skips the row until then.
 */
export function failurePatch(
  row: Pick<ExportRow, 'failures'>,
  error: string,
  now: Date,
  options: { stuck?: boolean } = {},
): ExportPatch {
  const failures = row.failures + 1;
  const steps = options.stuck ? failures - 1 : failures - 2;
  const nextAttemptAt =
    steps < 0 ? null : new Date(now.getTime() + Math.min(maxBackoffMs, firstBackoffMs * 2 ** steps));
  return { error, failures, next_attempt_at: nextAttemptAt };
}

/** The patch that ends a backoff: a step succeeded, or an operator asked for a retry. */
export const clearedFailures: ExportPatch = { failures: 0, next_attempt_at: null };

/** Whether a sync must leave the row alone for now. */
export function inBackoff(row: Pick<ExportRow, 'next_attempt_at'>, now: Date): boolean {
  return row.next_attempt_at !== null && row.next_attempt_at > now;
}

/** What the summary and `status` say of a row in backoff, with the way out. */
export function backoffNote(row: ExportRow): string {
  return `export ${row.id} failed ${row.failures} time(s) and is not tried again before ${row.next_attempt_at?.toISOString()}: ${row.error ?? 'no error recorded'}. \`exports retry ${row.id}\` tries it at the next sync; \`exports abandon ${row.id} --reason TEXT\` gives it up so that its window is requested again`;
}
