import type { AccountConfig } from '../config/load-config.js';
import type { Window } from '../model/window.js';
import type { StateStore } from '../state/state-store.js';
import type { StreamPlan } from './planner.js';
import { planStreams } from './sync-plan.js';
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
  /** The scheduler's reason it is not due, or the planner's note when nothing is planned. */
  readonly note: string | null;
}

/**
 * Each enabled stream's next due time as `sync` would see it now (`status`, `plan`): its
 * incremental windows planned from the watermarks, then the scheduler's decision over the
 * account's history. Reads the state store, writes nothing (a gap a sync would record is not).
 */
export async function nextDue(input: {
  readonly state: StateStore;
  readonly config: AccountConfig;
  readonly now: Date;
  readonly watermarks?: ReadonlyMap<string, Date>;
}): Promise<{ streams: Map<string, StreamDue>; plans: Map<string, StreamPlan> }> {
  const { state, config, now } = input;
  const watermarks = input.watermarks ?? (await state.watermarks.byStream(config.accountKey));
  const planned = planStreams(config.streams, watermarks, now, config.horizon);
  const plans = new Map(planned.map(({ stream, plan }) => [stream.schema.name, plan]));
  const queue = new Map<string, readonly Window[]>([...plans].map(([n, p]) => [n, p.windows]));
  const decision = await scheduleRun({
    state,
    account: config.accountKey,
    quota: config.exportsPer24h,
    now,
    streams: config.streams,
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
  readonly state: StateStore;
  readonly config: AccountConfig;
  readonly now: Date;
}): Promise<void> {
  const { state, config, now } = input;
  const { streams } = await nextDue(input);
  const quota = await state.quota.view(config.accountKey, config.exportsPer24h, now);
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
