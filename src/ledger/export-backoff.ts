import type { ExportRecord } from '../ports/export-record.js';

/** Whether a sync must leave the export alone for now (its backoff runs). */
export function inBackoff(record: Pick<ExportRecord, 'nextAttemptAt'>, now: Date): boolean {
  return record.nextAttemptAt !== null && record.nextAttemptAt > now;
}

/** What the summary and `status` say of an export in backoff, with the way out. */
export function backoffNote(record: ExportRecord): string {
  return `export ${record.ledgerId} failed ${record.failures} time(s) and is not tried again before ${record.nextAttemptAt?.toISOString()}: ${record.error ?? 'no error recorded'}. \`exports retry ${record.ledgerId}\` tries it at the next sync; \`exports abandon ${record.ledgerId} --reason TEXT\` gives it up so that its window is requested again`;
}
