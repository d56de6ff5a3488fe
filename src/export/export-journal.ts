import { appendFile, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { LocalStorageError } from '../errors.js';
import { recordFromJournal } from '../ledger/export-transitions.js';
import type { Logger } from '../log/logger.js';
import type { StatePorts } from '../ports/state-ports.js';

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
  await appendSynced(path, `${JSON.stringify(entry)}\n`);
  return path;
}

/** Appends `text` to `path` and fsyncs it. */
async function appendSynced(path: string, text: string): Promise<void> {
  await appendFile(path, text);
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Applies every journal entry of the account to the ledger: a row the vendor accepted but the
 * ledger never heard of (still `reserved`, or written off without a vendor id) becomes
 * `submitted` with the vendor's id, and the sync resumes it like any other. The journal is first
 * renamed aside (atomically), so that an entry another process appends meanwhile goes to a new
 * journal, never lost; a file left aside by a run that died is applied too. A line that cannot
 * be read is moved to `<journal>.bad`, not dropped. A store failure throws and keeps the file
 * aside for the next run. Returns the entries applied.
 */
export async function applyJournal(
  state: Pick<StatePorts, 'exports'>,
  archiveDir: string,
  account: string,
  now: Date,
  log: Logger,
): Promise<number> {
  const path = journalPath(archiveDir, account);
  const dir = dirname(path);
  const aside = `${path}.applying-${process.pid}-${now.getTime()}`;
  try {
    await rename(path, aside);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT')
      throw new LocalStorageError(
        `cannot read the export journal ${path} (${code ?? (err as Error).message}); it holds exports the API accepted: fix the path, then sync`,
        code,
        { cause: err },
      );
  }
  let files: string[];
  try {
    files = (await readdir(dir))
      .filter((f) => f.startsWith(`${basename(path)}.applying-`))
      .map((f) => join(dir, f));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let applied = 0;
  for (const file of files.sort()) {
    applied += await applyJournalFile(state, file, `${path}.bad`, now, log);
    // Another sync on this machine may have applied (and removed) the same file: entries are
    // applied once either way (a row already recorded is left alone).
    await unlink(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
  return applied;
}

async function applyJournalFile(
  state: Pick<StatePorts, 'exports'>,
  file: string,
  badFile: string,
  now: Date,
  log: Logger,
): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
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
      await appendSynced(badFile, `${line}\n`);
      log.warn('journal line unreadable; kept aside', { journal: badFile, line: line.slice(0, 300) });
      continue;
    }
    const fields = { stream: entry.stream, ledgerId: entry.ledgerId, vendorExportId: entry.vendorExportId };
    const record = await state.exports.get(entry.ledgerId);
    const unknownToLedger =
      record !== undefined &&
      record.vendorExportId === null &&
      (record.status === 'reserved' || record.status === 'failed');
    if (!unknownToLedger) {
      log.info('journal entry already in the ledger', fields);
      continue;
    }
    const written = await state.exports.writeUnlessWindowTaken(
      entry.ledgerId,
      recordFromJournal(record, {
        vendorExportId: entry.vendorExportId,
        statusUrl: entry.statusUrl,
        submittedAt: new Date(entry.submittedAt),
      }),
      now,
    );
    if (written === 'window-taken') {
      // The window has another unfinished export meanwhile (requested again elsewhere).
      log.warn('journal entry not applied: the window has another unfinished export', fields);
      continue;
    }
    applied++;
    log.info('export recorded from the journal', fields);
  }
  return applied;
}
