import type { StreamConfig } from '../config/load-config.js';
import type { Window } from '../model/window.js';
import type { StateStore } from '../state/state-store.js';
import { type ScheduleDecision, type ScheduledStream, schedule } from './scheduler.js';

/**
 * Asks the scheduler which of the planned streams request in this run, from the ledger's
 * history (the account's recent requests, each stream's latest and count) and the account's
 * earlier syncs. A stream with no planned window takes no part.
 */
export async function scheduleRun(input: {
  state: StateStore;
  account: string;
  /** The requests the account may have in any rolling 24 hours (the quota view's `limit`). */
  quota: number;
  now: Date;
  /**
   * Every stream that takes a share of the quota: the enabled ones but those the API refuses
   * (the fair share is taken over all of them, not only those planned).
   */
  streams: readonly StreamConfig[];
  /** The windows each stream would request now. */
  queue: ReadonlyMap<string, readonly Window[]>;
  watermarks: ReadonlyMap<string, Date>;
  /** This run's id in the run log, left out of the earlier runs. */
  runId: string | undefined;
}): Promise<ScheduleDecision> {
  const { state, account, now } = input;
  const history = await state.quota.history(account, now);
  const previousRuns = await state.runs.previousStarts(account, 'sync', input.runId);
  const scheduled: ScheduledStream[] = [];
  for (const s of input.streams) {
    const windows = input.queue.get(s.schema.name) ?? [];
    if (windows.length === 0) continue;
    const watermark = input.watermarks.get(s.schema.name);
    const end = windows[windows.length - 1]!.end.getTime();
    const mine = history.byStream.get(s.schema.name);
    scheduled.push({
      stream: s.schema.name,
      weight: s.weight,
      watermark,
      newDataMs: watermark ? end - watermark.getTime() : Number.POSITIVE_INFINITY,
      minIntervalMs: s.minIntervalMs,
      backlog: watermark === undefined || windows.length > 1,
      askedUntil: mine?.askedUntil,
      lastRequestAt: mine?.last,
      recentRequests: mine?.count ?? 0,
    });
  }
  return schedule({
    now,
    quota: input.quota,
    weights: input.streams.map((s) => s.weight),
    recentSpends: history.spends,
    previousRuns,
    streams: scheduled,
  });
}
