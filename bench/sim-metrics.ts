/**
 * The schedule simulator's numbers, from what the harness recorded and what the vendor
 * simulator counted: exports used, refusals, lag per stream, requests with little new data, and
 * the invariants any correct engine keeps (reported, and asserted by the test).
 */
import { quotaMessage, type SimulatorStats } from '../simulator/simulator-server.js';
import type { Recording } from './sim-harness.js';

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;

/** One export request as the engine sent it (its clock at sending) and whether the vendor took it. */
export interface Attempt {
  readonly sentAt: number;
  readonly accepted: boolean;
}

export interface StreamMetrics {
  readonly stream: string;
  /** Export requests the vendor accepted for this stream. */
  readonly exports: number;
  /** Worst lag over the whole scenario, hours. */
  readonly worstLagH: number;
  /** Worst lag after the warm-up days, hours. */
  readonly steadyWorstLagH: number;
  /** Mean lag after the warm-up days, hours. */
  readonly meanLagH: number;
  /** Lag at the scenario's end, hours. */
  readonly finalLagH: number;
  /** Whether the lag was still at its worst at the end (growing without bound). */
  readonly growing: boolean;
  readonly littleNewData: number;
}

export interface ScenarioInvariants {
  /** Most of our requests the vendor accepted within any rolling 24 hours. */
  readonly maxExportsPerRolling24h: number;
  /** Most requests the vendor accepted within any rolling 24 hours, someone else's included. */
  readonly vendorMaxPerRolling24h: number;
  /** Requests the engine sent although requests it had sent in the 24 h before used its quota. */
  readonly attemptsOverOwnCount: number;
  /** Accepted requests for a (stream, window) requested before. */
  readonly duplicateWindows: readonly string[];
  readonly watermarkRegressions: readonly { stream: string; at: string; from: string; to: string }[];
}

export interface ScenarioMetrics {
  readonly days: number;
  readonly exportsUsed: number;
  /** exportsPer24h x days. */
  readonly exportsMax: number;
  /** The vendor's quota 400s to our requests. */
  readonly refusals: number;
  /** Other refusals of our export requests (any status), with their messages. */
  readonly otherRejections: readonly string[];
  /** Someone else's requests on the account (`outsiderExport`): sent, accepted, refused. */
  readonly outsider: { readonly requested: number; readonly accepted: number; readonly refused: number };
  /** Our requests refused other than for quota, per stream: how many, and on how many days. */
  readonly refusedByStream: Readonly<Record<string, { readonly requests: number; readonly days: number }>>;
  /**
   * How long after its run started each of our accepted requests was sent (a wait for a slot
   * about to free), in seconds: the largest over the first and over the last 10 days.
   */
  readonly sendDelayS: { readonly first10Days: number; readonly last10Days: number };
  /** Requests bringing less than the threshold of new data (not first syncs, not explicit windows). */
  readonly littleNewData: number;
  readonly littleDataThresholdH: number;
  readonly runs: number;
  /** Runs by exit code. */
  readonly exitCodes: Readonly<Record<string, number>>;
  readonly streams: readonly StreamMetrics[];
  /** Counters of the scenario itself (Airflow: failed, skipped, unfinished tasks...). */
  readonly tasks: Readonly<Record<string, number>>;
  readonly invariants: ScenarioInvariants;
}

const hours = (ms: number) => Math.round((ms / hourMs) * 10) / 10;

/** The most timestamps (sorted ascending) inside any half-open span of `spanMs` ending at one of them. */
function maxInRolling(sorted: readonly number[], spanMs: number): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[lo]! <= sorted[hi]! - spanMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

export function computeMetrics(
  rec: Recording,
  stats: SimulatorStats,
  tasks: Record<string, number>,
): ScenarioMetrics {
  const days = Math.round((rec.endMs - rec.startMs) / dayMs);
  // Ours: requests without the `x-sim-client` tag of someone else's.
  const accepted = stats.exportRequests.filter((r) => !r.client);
  const rejected = stats.rejectedExportRequests.filter((r) => !r.client);
  const steadyFrom = rec.startMs + rec.warmupMs;

  const streams = rec.streams.map((stream): StreamMetrics => {
    const all = rec.samples.get(stream) ?? [];
    // With no day after the warm-up (a short run), the whole run is measured.
    const measured = steadyFrom < rec.endMs ? all.filter((s) => s.t >= steadyFrom) : all;
    const worst = Math.max(0, ...all.map((s) => s.lagMs));
    const steadyWorst = Math.max(0, ...measured.map((s) => s.lagMs));
    const mean = measured.reduce((a, s) => a + s.lagMs, 0) / Math.max(1, measured.length);
    const final = all.at(-1)?.lagMs ?? 0;
    return {
      stream,
      exports: accepted.filter((r) => r.stream === stream).length,
      worstLagH: hours(worst),
      steadyWorstLagH: hours(steadyWorst),
      meanLagH: hours(mean),
      finalLagH: hours(final),
      growing: final >= steadyWorst && final > 2 * dayMs,
      littleNewData: rec.newData.filter(
        (n) => n.stream === stream && n.newDataMs !== null && n.newDataMs < rec.littleDataMs,
      ).length,
    };
  });

  const seen = new Set<string>();
  const duplicateWindows: string[] = [];
  for (const r of accepted) {
    const key = `${r.stream} ${r.startDate} ${r.endDate}`;
    if (seen.has(key)) duplicateWindows.push(key);
    seen.add(key);
  }

  let attemptsOverOwnCount = 0;
  rec.attempts.forEach((a, i) => {
    const counted = rec.attempts.slice(0, i).filter((b) => b.accepted && b.sentAt > a.sentAt - dayMs).length;
    if (counted >= rec.exportsPer24h) attemptsOverOwnCount++;
  });

  const exitCodes: Record<string, number> = {};
  for (const r of rec.runs) exitCodes[r.exitCode] = (exitCodes[r.exitCode] ?? 0) + 1;
  const isQuota = (r: { status: number; message: string }) => r.status === 400 && r.message === quotaMessage;
  const refusedByStream: Record<string, { requests: number; days: number }> = {};
  for (const r of rejected.filter((x) => !isQuota(x))) {
    const stream = streamOfPath(r.path);
    const e = refusedByStream[stream] ?? { requests: 0, days: 0 };
    e.requests++;
    refusedByStream[stream] = e;
  }
  for (const stream of Object.keys(refusedByStream)) {
    const daysSeen = new Set(
      rejected
        .filter((x) => !isQuota(x) && streamOfPath(x.path) === stream)
        .map((x) => Math.floor((x.at - rec.startMs) / dayMs)),
    );
    refusedByStream[stream]!.days = daysSeen.size;
  }
  // Each accepted request's delay after the start of the run that sent it.
  const runStarts = rec.runs.map((r) => r.at).sort((a, b) => a - b);
  const delayOf = (t: number) => {
    let lo = 0;
    let hi = runStarts.length - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (runStarts[mid]! <= t) lo = mid;
      else hi = mid - 1;
    }
    return runStarts.length && runStarts[lo]! <= t ? (t - runStarts[lo]!) / 1000 : 0;
  };
  const maxDelay = (from: number, to: number) =>
    Math.round(
      Math.max(
        0,
        ...accepted.filter((r) => r.createdAt >= from && r.createdAt < to).map((r) => delayOf(r.createdAt)),
      ),
    );

  return {
    days,
    exportsUsed: accepted.length,
    exportsMax: rec.exportsPer24h * days,
    refusals: rejected.filter(isQuota).length,
    otherRejections: rejected.filter((r) => !isQuota(r)).map((r) => `${r.status} ${r.path}: ${r.message}`),
    outsider: {
      requested: rec.outsider.length,
      accepted: rec.outsider.filter((o) => o.accepted).length,
      refused: rec.outsider.filter((o) => !o.accepted).length,
    },
    refusedByStream,
    sendDelayS: {
      first10Days: maxDelay(rec.startMs, rec.startMs + 10 * dayMs),
      last10Days: maxDelay(rec.endMs - 10 * dayMs, rec.endMs),
    },
    littleNewData: streams.reduce((a, s) => a + s.littleNewData, 0),
    littleDataThresholdH: hours(rec.littleDataMs),
    runs: rec.runs.length,
    exitCodes,
    streams,
    tasks,
    invariants: {
      maxExportsPerRolling24h: maxInRolling(
        accepted.map((r) => r.createdAt).sort((a, b) => a - b),
        dayMs,
      ),
      vendorMaxPerRolling24h: maxInRolling(
        stats.exportRequests.map((r) => r.createdAt).sort((a, b) => a - b),
        dayMs,
      ),
      attemptsOverOwnCount,
      duplicateWindows,
      watermarkRegressions: rec.watermarkRegressions.map((w) => ({
        ...w,
        at: new Date(w.at).toISOString(),
      })),
    },
  };
}

const streamsByPath: Readonly<Record<string, string>> = {
  'Copilot/KBTable': 'copilot_kb',
  'Copilot/ASTable': 'copilot_as',
  'Copilot/AQTable': 'copilot_aq',
  'AutopilotKnowledge/GRTable': 'autopilot_gr',
  'autopilot/GRTable': 'autopilot_gr',
};

function streamOfPath(path: string): string {
  return streamsByPath[path] ?? path;
}

/**
 * The most requests runs at `runTimes` could have had accepted, given someone else's accepted
 * requests at `others`: at each run, as many as the vendor's rolling 24 hours (`quota`, ours and
 * theirs together) and our own limit (`ours`) leave free. Taking every free slot as early as it
 * can be taken is the most any schedule of those runs gets.
 */
export function slotsRunsAllow(
  runTimes: readonly number[],
  others: readonly number[],
  quota: number,
  ours = quota,
): number {
  const taken: number[] = [];
  const theirs = [...others].sort((a, b) => a - b);
  for (const t of [...runTimes].sort((a, b) => a - b)) {
    const inWindow = (xs: readonly number[]) => xs.filter((x) => x > t - dayMs && x <= t).length;
    const free = Math.min(quota - inWindow(taken) - inWindow(theirs), ours - inWindow(taken));
    for (let i = 0; i < free; i++) taken.push(t);
  }
  return taken.length;
}
