import { pruneArchive } from '../export/archive-prune.js';
import type { AccountRunSettings } from '../ports/run-settings.js';
import type { StatePorts } from '../ports/state-ports.js';

const dayMs = 86_400_000;

/**
 * The runs of each account and command that no retention prunes: the scheduler reads how often
 * sync is run from the latest 8 (and a forecast from 9), `status` shows the last one.
 */
export const latestRunsKept = 10;

/** What one prune removed. */
export interface Pruned {
  /** Archived raw files deleted (`archive.keepDays`). */
  readonly archiveFiles: number;
  /** Rows of the run log deleted (`state.runsKeepDays`). */
  readonly runs: number;
  /** Rejected rows deleted (`state.rejectedRowsKeepDays`). */
  readonly rejectedRows: number;
}

/**
 * The retention of the state tables that grow with every run: the account's runs older than
 * `state.runsKeepDays` (but never its latest {@link latestRunsKept} of a command) and the
 * rejected rows of its exports older than `state.rejectedRowsKeepDays`. The export ledger is kept
 * for ever: it is the history of every window requested, and the quota and replay read it.
 */
export async function pruneState(
  state: Pick<StatePorts, 'runs' | 'exports'>,
  config: Pick<AccountRunSettings, 'accountKey' | 'retention'>,
  now: Date,
): Promise<Omit<Pruned, 'archiveFiles'>> {
  const { accountKey, retention } = config;
  const runs = await state.runs.prune(
    accountKey,
    new Date(now.getTime() - retention.runsKeepDays * dayMs),
    latestRunsKept,
  );
  const rejectedRows = await state.exports.pruneRejectedRows(
    accountKey,
    new Date(now.getTime() - retention.rejectedRowsKeepDays * dayMs),
  );
  return { runs, rejectedRows };
}

/** Every retention of the account at once: the archive's files, then the state tables (`prune`). */
export async function pruneAll(
  state: Pick<StatePorts, 'runs' | 'exports'>,
  config: Pick<AccountRunSettings, 'accountKey' | 'retention' | 'archive'>,
  now: Date,
): Promise<Pruned> {
  const archiveFiles = await pruneArchive(state, config.accountKey, config.archive.keepDays, now);
  return { archiveFiles, ...(await pruneState(state, config, now)) };
}
