import { checkArchiveDir } from '../export/archive-check.js';
import { applyJournal } from '../export/export-journal.js';
import { backoffNote, inBackoff } from '../ledger/export-backoff.js';
import { existingRowsAccount } from '../load/account-column.js';
import { claimHost } from '../ports/claim-owner.js';
import { type ExportRecord, isUnfinished } from '../ports/export-record.js';
import { eachLimited } from './each-limited.js';
import type { SyncRun } from './sync-run.js';

/**
 * Before anything is driven or spent: the archive must take a file, the vendor answers the
 * ledger could not take last time (the local journal) go in, and every enabled stream's table
 * exists (a destination that cannot be reached fails the run here).
 */
export async function prepareRun(run: SyncRun): Promise<void> {
  const { deps } = run;
  const { config, state, log } = deps;
  await checkArchiveDir(deps.archiveDir, config.archive.minFreeMB);
  await applyJournal(state, deps.archiveDir, run.account, run.now(), log);
  for (const s of config.streams)
    await deps.destination.ensureTable(
      s.schema,
      [],
      existingRowsAccount(state, s.schema.name, deps.soleAccount),
    );
}

/**
 * Resume: every unfinished export of the run's streams is claimed and driven on, before any
 * quota is spent. One in backoff is skipped (its stream takes no new window meanwhile); one
 * another live process holds is left to it.
 */
export async function resumeUnfinished(run: SyncRun): Promise<void> {
  const { deps, report } = run;
  const { state, log } = deps;
  const resumable: ExportRecord[] = [];
  for (const record of await state.exports.unfinished(run.account, [...run.byName.keys()])) {
    if (inBackoff(record, run.now())) {
      report.fail(record.stream, backoffNote(record), record);
      continue;
    }
    const claimed = await state.exports.claim(record.ledgerId, deps.owner, run.now());
    if (!claimed) {
      report.defer(
        record.stream,
        `export ${record.ledgerId} is being worked on by another process (${claimHost(record) ?? 'unknown host'})`,
      );
      continue;
    }
    if (!isUnfinished(claimed.status)) {
      // Another process finished it between the listing and the claim.
      await state.exports.release(claimed.ledgerId, deps.owner);
      continue;
    }
    log.info('resuming unfinished export', {
      stream: record.stream,
      ledgerId: record.ledgerId,
      status: claimed.status,
    });
    resumable.push(claimed);
  }
  await eachLimited(resumable, run.parallel, (r) => run.drive(r));
}
