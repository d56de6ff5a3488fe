/**
 * The operators' schedules the schedule simulator plays against the engine (issue 14). A
 * scenario drives a harness (`runAt` per run) and returns its own counters (Airflow: failed and
 * skipped tasks). Every random choice comes from the seeded `random`.
 */
import type { Window } from '../src/index.js';
import { dayMs, type Harness, hourMs } from './sim-harness.js';

export type Scenario = (h: Harness, random: () => number) => Promise<Record<string, number>>;

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

/** Runs an incremental `sync` (every enabled stream, no window) at each of `times`. */
async function syncAt(h: Harness, times: readonly number[]): Promise<Record<string, number>> {
  let deferred = 0;
  let failed = 0;
  for (const t of times) {
    if (t >= h.endMs) break;
    const s = await h.runAt(t);
    if (s.exitCode === 75) deferred++;
    else if (s.exitCode !== 0) failed++;
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

/** Every scenario by name, in the order the table shows them. */
export const scenarios: Readonly<Record<string, Scenario>> = {
  hourly: (h, r) => syncAt(h, periodic(h, r, hourMs)),
  'every-8h': (h, r) => syncAt(h, periodic(h, r, 8 * hourMs)),
  daily: (h, r) => syncAt(h, periodic(h, r, dayMs, 2 * hourMs)),
  'by-hand-twice-a-day': (h, r) => syncAt(h, byHand(h, r)),
  'airflow-daily-intervals': (h, r) => airflowIntervals(h, r, exampleDag),
  'airflow-daily-per-stream': (h, r) =>
    airflowIntervals(h, r, {
      ...exampleDag,
      tasks: h.streams.map((s) => ({ id: `sync_${s}`, streams: [s] })),
    }),
  'airflow-hourly-incremental': airflowHourlyIncremental,
};
