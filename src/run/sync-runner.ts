import { pruneArchive } from '../export/archive-prune.js';
import { redact } from '../log/redact.js';
import { selectStreams } from '../plan/sync-plan.js';
import { recordNextDue } from './next-due.js';
import { pruneState } from './state-prune.js';
import type { SyncDeps, SyncOptions } from './sync-deps.js';
import { planRun, readBackoffs } from './sync-plan-run.js';
import { requestDue } from './sync-request.js';
import { prepareRun, resumeUnfinished } from './sync-resume.js';
import { SyncRun } from './sync-run.js';
import { SyncReport, type SyncSummary } from './sync-summary.js';

export type { SyncDeps, SyncOptions } from './sync-deps.js';
export type { ExportSummary, StreamState, StreamSummary, SyncSummary } from './sync-summary.js';

/**
 * One sync, in four phases: resume (apply the journal, make every enabled stream's table, finish
 * every unfinished export first), plan (the due windows of the streams not backed off), request
 * (the scheduler chooses which streams spend the quota now; reserve, request, and drive each
 * export to loaded) and finish (prune the archive, the run log and rejected rows; record each
 * stream's next due time). Returns a summary whose `exitCode` says how it went (docs/contract.md,
 * exit codes); an error that ends the run keeps what it did (`syncSoFar`).
 */
export async function runSync(deps: SyncDeps, options: SyncOptions = {}): Promise<SyncSummary> {
  const names = selectStreams(deps.config, options.streams).map((s) => s.schema.name);
  const report = new SyncReport(names, deps.log);
  return report.keepOnError(deps.config.accountKey, deps.clock, async () => {
    const run = new SyncRun(deps, options, report);
    await prepareRun(run);
    await resumeUnfinished(run);
    await readBackoffs(run);
    const nextSlotAt = await requestDue(run, await planRun(run));
    return finishRun(run, nextSlotAt);
  });
}

/** The end of a sync: streams still open when it stops, the archive pruned, next due times, the summary. */
async function finishRun(run: SyncRun, nextSlotAt: Date | null): Promise<SyncSummary> {
  const { deps, report } = run;
  const { state, config, log } = deps;
  if (run.signal?.aborted)
    for (const name of run.byName.keys()) if (report.open(name)) report.defer(name, run.stopNote());
  const pruned = await pruneArchive(state, run.account, config.archive.keepDays, run.now());
  if (pruned) log.info('archive pruned', { files: pruned, keepDays: config.archive.keepDays });
  // The run log and rejected rows are bookkeeping: the run's outcome stands without their prune.
  await pruneState(state, config, run.now())
    .then((p) => {
      if (p.runs || p.rejectedRows) log.info('state pruned', { ...p, ...config.retention });
    })
    .catch((err: unknown) =>
      log.warn('could not prune the run log and rejected rows', { error: redact((err as Error).message) }),
    );
  // Where the freshness view reads each stream's next due time; the run's outcome stands without it.
  await recordNextDue({ state, config, now: run.now() }).catch((err: unknown) =>
    log.warn('could not record the next due times', { error: redact((err as Error).message) }),
  );
  const quota = await state.quota.view(run.account, config.quota, run.now());
  return report.finish({
    account: run.account,
    startedAt: run.startedAt,
    endedAt: run.now(),
    quota,
    nextSlotAt: nextSlotAt ?? quota.blockedUntil ?? quota.nextSlotAt,
  });
}
