import { rm } from 'node:fs/promises';
import type { StateStore } from '../state/state-store.js';

/** Deletes archived files of exports loaded more than `keepDays` ago (`archive.keepDays`). */
export async function pruneArchive(
  state: StateStore,
  account: string,
  keepDays: number,
  now: Date,
): Promise<number> {
  const cutoff = new Date(now.getTime() - keepDays * 86_400_000);
  const old = await state.exports.archivedLoadedBefore(account, cutoff);
  for (const e of old) {
    await rm(e.archive_path!, { force: true });
    await state.exports.update(e.id, { archive_path: null }, now);
  }
  return old.length;
}
