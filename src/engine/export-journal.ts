import { appendFile, mkdir, open, readFile, truncate } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from '../log/logger.js';
import { isUniqueViolation } from '../state/sql-pool.js';
import type { StateStore } from '../state/state-store.js';

/**
 * The vendor's answer to an export request, as it is kept when the ledger cannot take it: enough
 * to put the ledger row back to `submitted` and follow the export through the status endpoint.
 */
export interface JournalEntry {
  readonly account: string;
  readonly stream: string;
  /** The ledger row reserved for the request. */
  readonly ledgerId: string;
  readonly vendorExportId: string;
  readonly statusUrl: string;
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly submittedAt: string;
}

/**
 * The local journal of an account: `<archive.dir>/.journal/<account>.jsonl`, one JSON entry a
 * line. Written only when the state store refuses the vendor's answer; read and emptied by the
 * next sync before it plans anything.
 */
export function journalPath(archiveDir: string, account: string): string {
  return resolve(join(archiveDir, '.journal', `${account.replace(/[^A-Za-z0-9_.-]/g, '_')}.jsonl`));
}

/** Appends one entry and fsyncs it: once this returns, the vendor's id survives a crash. */
export async function appendToJournal(archiveDir: string, entry: JournalEntry): Promise<string> {
  const path = journalPath(archiveDir, entry.account);
  await mkdir(join(archiveDir, '.journal'), { recursive: true });
  await appendFile(path, `${JSON.stringify(entry)}\n`);
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  return path;
}

/**
 * Applies every journal entry of the account to the ledger, then empties the journal: a row the
 * vendor accepted but the ledger never heard of (still `reserved`, or written off without a
 * vendor id) becomes `submitted` with the vendor's id, and the sync resumes it like any other.
 * A store failure throws and keeps the journal for the next run. Returns the entries applied.
 */
export async function applyJournal(
  state: StateStore,
  archiveDir: string,
  account: string,
  now: Date,
  log: Logger,
): Promise<number> {
  const path = journalPath(archiveDir, account);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let applied = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let entry: JournalEntry;
    try {
      entry = JSON.parse(line) as JournalEntry;
    } catch {
      log.warn('journal line unreadable; skipped', { journal: path, line: line.slice(0, 300) });
      continue;
    }
    const fields = { stream: entry.stream, export: entry.ledgerId, exportId: entry.vendorExportId };
    const row = await state.exports.get(entry.ledgerId);
    const unknownToLedger =
      row !== undefined &&
      row.vendor_export_id === null &&
      (row.status === 'reserved' || row.status === 'failed');
    if (!unknownToLedger) {
      log.info('journal entry already in the ledger', fields);
      continue;
    }
    try {
      await state.exports.update(
        entry.ledgerId,
        {
          status: 'submitted',
          vendor_export_id: entry.vendorExportId,
          status_url: entry.statusUrl,
          submitted_at: entry.submittedAt,
          counts_quota: true,
          error: null,
          retryable: null,
        },
        now,
      );
      applied++;
      log.info('export recorded from the journal', fields);
    } catch (err) {
      // The window has another unfinished export meanwhile (requested again elsewhere).
      if (!isUniqueViolation(err)) throw err;
      log.warn('journal entry not applied: the window has another unfinished export', fields);
    }
  }
  await truncate(path, 0);
  return applied;
}
