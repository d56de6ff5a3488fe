import type { Window } from '../model/window.js';
import { type ScheduleDecision, type ScheduledStream, schedule } from '../plan/scheduler.js';
import { backoffsInForce, sharingStreams } from '../plan/stream-backoff.js';
import type { AccountRunSettings, StreamConfig } from '../ports/run-settings.js';
import type { StatePorts } from '../ports/state-ports.js';

/**
 * The account's share of the quota now, as the scheduler takes it: the requests it may have in
 * any rolling 24 hours (`exportsPer24h` less what is left to others) and the streams that share
 * them (the enabled ones but those the API refuses).
 */
export async function quotaShare(
  state: StatePorts,
  config: AccountRunSettings,
  now: Date,
): Promise<{ readonly quota: number; readonly streams: readonly StreamConfig[] }> {
  const view = await state.quota.view(config.accountKey, config.quota, now);
  const backoffs = await state.backoffs.byStream(config.accountKey);
  return {
    quota: view.limit,
    streams: sharingStreams(config.streams, backoffsInForce(config.streams, backoffs, now)),
  };
}

/**
 * Asks the scheduler which of the planned streams request in this run, from the account's share
 * of the quota ({@link quotaShare}), the ledger's history (the account's recent requests, each
 * stream's latest and count) and the account's earlier syncs. A stream with no planned window,
 * or not sharing the quota, takes no part.
 */
export async function scheduleRun(input: {
  state: StatePorts;
  config: AccountRunSettings;
  now: Date;
  /** The windows each stream would request now. */
  queue: ReadonlyMap<string, readonly Window[]>;
  watermarks: ReadonlyMap<string, Date>;
  /** This run's id in the run log, left out of the earlier runs. */
  runId: string | undefined;
}): Promise<ScheduleDecision> {
  const { state, config, now } = input;
  const account = config.accountKey;
  const share = await quotaShare(state, config, now);
  const history = await state.quota.history(account, now);
  const previousRuns = await state.runs.previousStarts(account, 'sync', input.runId);
  const scheduled: ScheduledStream[] = [];
  // The fair share is taken over every sharing stream, not only those planned.
  for (const s of share.streams) {
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
    quota: share.quota,
    weights: share.streams.map((s) => s.weight),
    recentSpends: history.spends,
    previousRuns,
    streams: scheduled,
  });
}
