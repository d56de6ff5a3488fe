import type { Window } from '../model/window.js';
import type { StreamPlan } from '../plan/planner.js';
import { backoffsInForce, streamBackoffNote } from '../plan/stream-backoff.js';
import { planStreams } from '../plan/sync-plan.js';
import type { AccountRunSettings } from '../ports/run-settings.js';
import type { StatePorts, StreamBackoff } from '../ports/state-ports.js';
import { scheduleRun } from './sync-schedule.js';

/** What the scheduler would decide for one stream if an incremental `sync` ran now. */
export interface StreamDue {
  readonly stream: string;
  /** When its next export is due: now when it would be requested, null when nothing is planned. */
  readonly dueAt: Date | null;
  /** A sync now would request its next window (when a quota slot is free). */
  readonly request: boolean;
  /** Not paced: a first sync or a backlog, which may use every free slot. */
  readonly backlog: boolean;
  /** The scheduler's reason it is not due, the backoff's, or the planner's note when nothing is planned. */
  readonly note: string | null;
  /** The stream's backoff in force (refused by the API, failing at the vendor), if any. */
  readonly backoff: StreamBackoff | null;
}

/**
 * Each enabled stream's next due time as `sync` would see it now (`status`, `plan`): its
 * incremental windows planned from the watermarks, then the scheduler's decision over the
 * account's history; a stream backed off is due when its backoff ends. Reads the state store,
 * writes nothing (a gap a sync would record is not).
 */
export async function nextDue(input: {
  readonly state: StatePorts;
  readonly config: AccountRunSettings;
  readonly now: Date;
  readonly watermarks?: ReadonlyMap<string, Date>;
}): Promise<{ streams: Map<string, StreamDue>; plans: Map<string, StreamPlan> }> {
  const { state, config, now } = input;
  const watermarks = input.watermarks ?? (await state.watermarks.byStream(config.accountKey));
  const planned = planStreams(config.streams, watermarks, now, config.horizon);
  const plans = new Map(planned.map(({ stream, plan }) => [stream.schema.name, plan]));
  const backedOff = backoffsInForce(config.streams, await state.backoffs.byStream(config.accountKey), now);
  const queue = new Map<string, readonly Window[]>(
    [...plans].filter(([n]) => !backedOff.has(n)).map(([n, p]) => [n, p.windows]),
  );
  const decision = await scheduleRun({
    state,
    config,
    now,
    queue,
    watermarks,
    runId: undefined,
  });
  const streams = new Map<string, StreamDue>();
  for (const d of decision.streams) {
    streams.set(d.stream, {
      stream: d.stream,
      dueAt: d.dueAt,
      request: d.request,
      backlog: d.backlog,
      note: d.reason ?? null,
      backoff: null,
    });
  }
  for (const s of config.streams) {
    const row = backedOff.get(s.schema.name);
    if (row)
      streams.set(s.schema.name, {
        stream: s.schema.name,
        dueAt: row.nextAttemptAt,
        request: false,
        backlog: false,
        note: streamBackoffNote(row, s),
        backoff: row,
      });
  }
  for (const [name, plan] of plans) {
    if (!streams.has(name))
      streams.set(name, {
        stream: name,
        dueAt: null,
        request: false,
        backlog: false,
        note: plan.note ?? null,
        backoff: null,
      });
  }
  return { streams, plans };
}

/**
 * Records each enabled stream's next due time in the state store (`stream_schedule`, read by the
 * `freshness` view), as the scheduler sees it now. A stream due now while no quota slot is free
 * is due when the next slot frees.
 */
export async function recordNextDue(input: {
  readonly state: StatePorts;
  readonly config: AccountRunSettings;
  readonly now: Date;
}): Promise<void> {
  const { state, config, now } = input;
  const { streams } = await nextDue(input);
  const quota = await state.quota.view(config.accountKey, config.quota, now);
  const slot = quota.blockedUntil ?? (quota.used >= quota.limit ? quota.nextSlotAt : null);
  const due = config.streams.map((s) => {
    const d = streams.get(s.schema.name);
    const at = d?.dueAt ?? null;
    return {
      stream: s.schema.name,
      nextDueAt: at && slot && at < slot ? slot : at,
      note: d?.note ?? (d?.backlog ? 'first sync or backlog: not paced' : null),
    };
  });
  await state.schedule.record(config.accountKey, due, now);
}
