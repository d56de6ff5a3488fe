/**
 * The operators' schedules the schedule simulator plays against the engine (issue 14). A
 * scenario drives a harness (`runAt` per run) and returns its own counters (Airflow: failed and
 * skipped tasks). Every random choice comes from the seeded `random`.
 */
import type { SimulatorFaults } from '../simulator/simulator-server.js';
import type { SyncSummary, Window } from '../src/index.js';
import { dayMs, type Harness, type HarnessOptions, hourMs } from './sim-harness.js';
import { slotsRunsAllow } from './sim-metrics.js';

/** Plays one operator's schedule on a harness; returns its own counters. */
export type ScenarioRun = (h: Harness, random: () => number) => Promise<Record<string, number>>;

/** A scenario: how it runs, and the harness it needs (a config, the vendor's quota, its length). */
export interface Scenario {
  readonly run: ScenarioRun;
  readonly harness?: Partial<Omit<HarnessOptions, 'start' | 'label'>>;
}

/** Start-up jitter of a scheduled run (cron, Airflow's scheduler): 0-90 s. */
const startupJitterMs = 90_000;

const jitter = (random: () => number, maxMs: number) => Math.floor(random() * maxMs);

/** Every `everyMs` from the start plus `offsetMs`, each with its start-up jitter, before the end. */
function periodic(h: Harness, random: () => number, everyMs: number, offsetMs = 0): number[] {
  const times: number[] = [];
  for (let t = h.startMs + offsetMs; t < h.endMs; t += everyMs) {
    times.push(t + jitter(random, startupJitterMs));
  }
  return times;
}

/** A fault switched on at `from` and off at `until` (if ever), over the simulator's controls. */
interface FaultSpan {
  readonly from: number;
  readonly until?: number;
  readonly on: SimulatorFaults;
  readonly off?: SimulatorFaults;
}

/**
 * Runs an incremental `sync` (every enabled stream, no window) at each of `times`, with `fault`
 * switched on and off at its instants between them; `onRun` sees each run's summary and whether
 * the API refused a request of ours in it.
 */
async function syncAt(
  h: Harness,
  times: readonly number[],
  fault?: FaultSpan,
  onRun?: (summary: SyncSummary, refused: boolean) => void,
): Promise<Record<string, number>> {
  let deferred = 0;
  let failed = 0;
  let on = false;
  let off = false;
  for (const t of times) {
    if (t >= h.endMs) break;
    if (fault && !on && t >= fault.from) {
      h.advanceTo(fault.from);
      h.sim.setFaults(fault.on);
      on = true;
    }
    if (fault?.until !== undefined && on && !off && t >= fault.until) {
      h.advanceTo(fault.until);
      h.sim.setFaults(fault.off ?? {});
      off = true;
    }
    const refusedBefore = h.sim.stats.rejectedExportRequests.length;
    const s = await h.runAt(t);
    if (s.exitCode === 75) deferred++;
    else if (s.exitCode !== 0) failed++;
    onRun?.(s, h.sim.stats.rejectedExportRequests.length > refusedBefore);
  }
  return { deferredRuns: deferred, failedRuns: failed };
}

/** A person running `sync` around 09:30 and 17:30 (each within 30 minutes either side). */
function byHand(h: Harness, random: () => number): number[] {
  const times: number[] = [];
  for (let day = h.startMs; day < h.endMs; day += dayMs) {
    for (const at of [9.5 * hourMs, 17.5 * hourMs]) {
      times.push(day + at + Math.round((random() * 2 - 1) * 30 * 60_000));
    }
  }
  return times;
}

/** One task of an Airflow DAG: the streams it syncs (`--stream` options). */
export interface AirflowTask {
  readonly id: string;
  readonly streams: readonly string[];
}

/** The tasks of today's `examples/airflow/cxone_od_sync_dag.py` (its BashOperators). */
export const exampleDagTasks: readonly AirflowTask[] = [
  { id: 'sync_copilot', streams: ['copilot_kb', 'copilot_as', 'copilot_aq'] },
  { id: 'sync_autopilot', streams: ['autopilot_gr'] },
];

export interface AirflowIntervalDag {
  readonly tasks: readonly AirflowTask[];
  readonly intervalMs: number;
  /** `retries` and `retry_delay` of the DAG's default_args. */
  readonly retries: number;
  readonly retryDelayMs: number;
}

/** Today's example DAG: @daily, catchup, max_active_runs=1, retries 12 two hours apart. */
export const exampleDag: AirflowIntervalDag = {
  tasks: exampleDagTasks,
  intervalMs: dayMs,
  retries: 12,
  retryDelayMs: 2 * hourMs,
};

/**
 * An Airflow DAG in explicit data-interval mode: one DAG run per interval (start_date = the
 * scenario's start, catchup, max_active_runs=1: a run starts at its interval's end or when the
 * previous run has finished, whichever is later). Each task is `sync --stream S... --start
 * {{data_interval_start}} --end {{data_interval_end}}`; any non-zero exit (75 included) is
 * retried `retries` times `retryDelayMs` after the attempt, then the task has failed. Tasks
 * still retrying when the scenario ends count as unfinished.
 */
export async function airflowIntervals(
  h: Harness,
  random: () => number,
  dag: AirflowIntervalDag,
): Promise<Record<string, number>> {
  let failedTasks = 0;
  let succeededTasks = 0;
  let retriedAttempts = 0;
  let unfinishedTasks = 0;
  let dagRuns = 0;
  let previousFinish = h.startMs;
  for (let interval = h.startMs; ; interval += dag.intervalMs) {
    const window: Window = { start: new Date(interval), end: new Date(interval + dag.intervalMs) };
    const runStart = Math.max(window.end.getTime(), previousFinish);
    if (runStart >= h.endMs) break;
    dagRuns++;
    const pending = dag.tasks.map((task, order) => ({
      task,
      order,
      due: runStart + jitter(random, startupJitterMs),
      attempt: 1,
    }));
    while (pending.length > 0) {
      pending.sort((a, b) => a.due - b.due || a.order - b.order);
      const next = pending[0]!;
      if (next.due >= h.endMs) {
        unfinishedTasks += pending.length;
        return { dagRuns, succeededTasks, failedTasks, retriedAttempts, unfinishedTasks };
      }
      const s = await h.runAt(next.due, { streams: next.task.streams, window });
      if (s.exitCode === 0) {
        succeededTasks++;
        pending.shift();
      } else if (next.attempt <= dag.retries) {
        retriedAttempts++;
        next.attempt++;
        next.due = h.now() + dag.retryDelayMs + jitter(random, startupJitterMs);
      } else {
        failedTasks++;
        pending.shift();
      }
    }
    previousFinish = h.now();
  }
  return { dagRuns, succeededTasks, failedTasks, retriedAttempts, unfinishedTasks };
}

/**
 * The rewritten Airflow DAG of issue 14: an incremental `sync` of every stream, hourly, one task
 * per account; exit 75 maps to a skipped task, any other non-zero exit to a failed one.
 */
export async function airflowHourlyIncremental(
  h: Harness,
  random: () => number,
): Promise<Record<string, number>> {
  let skippedTasks = 0;
  let failedTasks = 0;
  let succeededTasks = 0;
  for (const t of periodic(h, random, hourMs)) {
    const s = await h.runAt(t);
    if (s.exitCode === 0) succeededTasks++;
    else if (s.exitCode === 75) skippedTasks++;
    else failedTasks++;
  }
  return { succeededTasks, skippedTasks, failedTasks };
}

/** Stream and table of the scenarios that make one stream fail. */
const gr = { stream: 'autopilot_gr', path: 'AutopilotKnowledge/GRTable' } as const;
const aq = { stream: 'copilot_aq', path: 'Copilot/AQTable' } as const;

/** The day (from the start) a scenario's fault begins: `day` of 30, scaled to a shorter run. */
const faultDay = (h: Harness, day: number) =>
  Math.max(1, Math.round((day * (h.endMs - h.startMs)) / (30 * dayMs)));

/** Our accepted requests for `stream` from `from` on. */
const acceptedFor = (h: Harness, stream: string | undefined, from: number, to = h.endMs) =>
  h.sim.stats.exportRequests.filter(
    (r) =>
      !r.client && (stream === undefined || r.stream === stream) && r.createdAt >= from && r.createdAt < to,
  );

/** The most of `times` (ms) within any rolling 24 hours. */
const mostInADay = (times: readonly number[]) => {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let lo = 0, hi = 0; hi < sorted.length; hi++) {
    while (sorted[lo]! <= sorted[hi]! - dayMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
};

/**
 * An hourly cron; from day 10 (of 30) the tenant's API answers 403 for the Autopilot GR table
 * (its environment does not expose the AutopilotKnowledge namespace). Counts the other streams'
 * exports and the slots free to them from the day after, and the GR requests the API refused.
 */
const refusedTable: Scenario = {
  harness: { warmupDays: 11 },
  async run(h, r) {
    const from = h.startMs + faultDay(h, 10) * dayMs;
    // Runs in which the API refused GR, and those of them that gave the slot to another stream.
    let refusedRuns = 0;
    let slotGivenOn = 0;
    const counters = await syncAt(
      h,
      periodic(h, r, hourMs),
      { from, on: { refuseTables: { [gr.path]: { status: 403 } } } },
      (summary, refused) => {
        if (!refused) return;
        refusedRuns++;
        if (summary.exportsRequested > 0) slotGivenOn++;
      },
    );
    const measured = from + dayMs;
    return {
      ...counters,
      refusedRuns,
      slotGivenOn,
      othersExportsAfter: acceptedFor(h, undefined, measured).filter((x) => x.stream !== gr.stream).length,
      slotsAfter: Math.round(((h.endMs - measured) / dayMs) * 3),
    };
  },
};

/** An hourly cron; Copilot Q&A exports fail at the vendor for 7 days from day 5. */
const failingStream: Scenario = {
  async run(h, r) {
    const from = h.startMs + faultDay(h, 5) * dayMs;
    const until = Math.min(h.endMs, from + 7 * dayMs);
    const counters = await syncAt(h, periodic(h, r, hourMs), {
      from,
      until,
      on: { failExports: [aq.path] },
      off: { failExports: [] },
    });
    const failing = acceptedFor(h, aq.stream, from, until).map((x) => x.createdAt);
    return { ...counters, failingStreamSlots: failing.length, failingStreamMostInADay: mostInADay(failing) };
  },
};
/**
 * An hourly cron, and someone else exporting from the account at `hours` (UTC) every day: a
 * person's dashboard export, a scheduled report. Counts the slots: ours, theirs, and all the
 * vendor allowed.
 */
function withOutsider(hours: readonly number[], every: 'hourly' | 'by-hand'): ScenarioRun {
  return async (h, r) => {
    const ours = every === 'hourly' ? periodic(h, r, hourMs) : byHand(h, r);
    const theirs: number[] = [];
    for (let day = h.startMs; day < h.endMs; day += dayMs)
      for (const at of hours) if (day + at * hourMs < h.endMs) theirs.push(day + at * hourMs);
    const events = [...ours.map((t) => ({ t, ours: true })), ...theirs.map((t) => ({ t, ours: false }))].sort(
      (a, b) => a.t - b.t,
    );
    let deferred = 0;
    let failed = 0;
    for (const e of events) {
      if (e.t >= h.endMs) break;
      if (!e.ours) {
        await h.outsiderExport(e.t);
        continue;
      }
      const s = await h.runAt(e.t);
      if (s.exitCode === 75) deferred++;
      else if (s.exitCode !== 0) failed++;
    }
    return {
      deferredRuns: deferred,
      failedRuns: failed,
      // What our run times allow beside someone else's requests, all of them taken first.
      slotsRunsAllow: slotsRunsAllow(
        ours.filter((t) => t < h.endMs),
        theirs.filter((t) => t < h.endMs),
        3,
      ),
    };
  };
}

/** An hourly cron through a 6-hour outage of the export endpoint (503 to every attempt) on day 5, 14:00 to 20:00. */
const finalServiceUnavailable: Scenario = {
  async run(h, r) {
    const from = h.startMs + faultDay(h, 5) * dayMs + 14 * hourMs;
    const until = from + 6 * hourMs;
    const counters = await syncAt(h, periodic(h, r, hourMs), {
      from,
      until,
      on: { failNext: { kind: 'export', status: 503, count: 1_000_000 } },
      off: { failNext: [] },
    });
    const firstAfter = acceptedFor(h, undefined, until)[0]?.createdAt;
    // The requests the outage answered 503 to, and how many of them the ledger counts.
    const refused = (
      await h.ctx.state.exports.list([h.ctx.config.accountKey], { statuses: ['failed'], limit: 10_000 })
    ).filter((e) => e.reservedAt.getTime() >= from && e.reservedAt.getTime() < until);
    return {
      ...counters,
      outageRequests: refused.length,
      outageRequestsCounted: refused.filter((e) => e.countsQuota).length,
      hoursToFirstExportAfterOutage:
        firstAfter === undefined ? -1 : Math.round((firstAfter - until) / 360_000) / 10,
    };
  },
};

/** Every scenario by name, in the order the table shows them. */
export const scenarios: Readonly<Record<string, Scenario>> = {
  hourly: { run: (h, r) => syncAt(h, periodic(h, r, hourMs)) },
  'every-8h': { run: (h, r) => syncAt(h, periodic(h, r, 8 * hourMs)) },
  daily: { run: (h, r) => syncAt(h, periodic(h, r, dayMs, 2 * hourMs)) },
  'by-hand-twice-a-day': { run: (h, r) => syncAt(h, byHand(h, r)) },
  'airflow-daily-intervals': { run: (h, r) => airflowIntervals(h, r, exampleDag) },
  'airflow-daily-per-stream': {
    run: (h, r) =>
      airflowIntervals(h, r, {
        ...exampleDag,
        tasks: h.streams.map((s) => ({ id: `sync_${s}`, streams: [s] })),
      }),
  },
  'airflow-hourly-incremental': { run: airflowHourlyIncremental },
  'refused-table': refusedTable,
  'failing-stream': failingStream,
  'outsider-daily': { run: withOutsider([6], 'hourly') },
  'outsider-daily-reserved': {
    run: withOutsider([6], 'hourly'),
    harness: { configPatch: { account: { reserveForOthers: 1 } } },
  },
  'outsider-twice-daily': { run: withOutsider([6, 18], 'hourly') },
  'by-hand-with-outsider': { run: withOutsider([13], 'by-hand') },
  'final-503': finalServiceUnavailable,
  'daily-weighted': {
    run: (h, r) => syncAt(h, periodic(h, r, dayMs, 2 * hourMs)),
    harness: { configPatch: { streams: { copilot_kb: { weight: 3 } } } },
  },
  'hourly-quota-5': {
    run: (h, r) => syncAt(h, periodic(h, r, hourMs)),
    harness: { vendorQuota: 5, exportsPer24h: 5 },
  },
  'every-8h-200d': { run: (h, r) => syncAt(h, periodic(h, r, 8 * hourMs)), harness: { days: 200 } },
};
