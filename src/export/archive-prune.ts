import { rm } from 'node:fs/promises';
import { archivePruned } from '../ledger/export-transitions.js';
import type { StatePorts } from '../ports/state-ports.js';

/** Deletes archived files of exports loaded more than `keepDays` ago (`archive.keepDays`). */
export async function pruneArchive(
  state: Pick<StatePorts, 'exports'>,
  account: string,
  keepDays: number,
  now: Date,
): Promise<number> {
  const cutoff = new Date(now.getTime() - keepDays * 86_400_000);
  const old = await state.exports.archivedLoadedBefore(account, cutoff);
  for (const record of old) {
    await rm(record.archivePath!, { force: true });
    await state.exports.write(record.ledgerId, archivePruned(record), now);
  }
  return old.length;
}
