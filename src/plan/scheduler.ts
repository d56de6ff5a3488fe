/**
 * The quota scheduler (issue 14): which streams get an export request in this run. Pure: the
 * ledger's history and the clock in, a decision out.
 *
 * The vendor allows `quota` requests per rolling 24 hours, shared by every stream of the account.
 * The policy:
 * - **Pacing.** Slots are spent about one every `24 h / quota` (the pace): the next slot is due
 *   at `max_k(spend_k + k * pace)` over the k-th most recent requests, taken to the nearest point
 *   of the grid laid at the pace from the oldest of them, so a bunch of requests (a first sync)
 *   spreads out again instead of freeing, and being spent, all at once every day, and a slot
 *   spent a little late (at the next run after its grid point) does not make every later one
 *   late too: each day's slots come at the times of the day before. A run spends every
 *   grid point that has come, and every one that would pass before the next run is expected
 *   (the upper quartile of the gaps between this account's recent syncs): a daily cron spends
 *   the day's three slots in one run, an hourly cron one every eight hours.
 * - **Fair share.** The slot goes to the stream with the largest weighted staleness
 *   (`(now - data end) * weight`, the data end being the later of the watermark and the end of
 *   the latest window requested, so that a stream whose export failed has had its turn); ties go
 *   to the stream with the fewest recent exports, then the one requested longest ago, never to a
 *   name. Over time each stream gets `weight / sum(weights)` of the slots: with four streams of
 *   weight 1 and a quota of 3, each is refreshed every 32 h. The weights are those of the streams
 *   that can be served: a stream the API refuses takes no share.
 * - **Worthwhile requests only.** An incremental request must bring at least the stream's
 *   minimum of new data (`streams.<name>.minInterval`; by default half its fair-share interval,
 *   but never more than half the time to the next run, so that a slot is not left idle a whole
 *   run for a little more data), so a sync run right after another sends nothing.
 * - **Backlogs and first syncs** (a stream never synced, or whose due span is split into several
 *   windows) may use every free slot, unpaced.
 */

import { quotaWindowMs as dayMs } from '../ports/state-ports.js';

/** How long a run waits for a quota slot about to free (`--no-wait` turns it off), at least. */
export const maxSlotWaitMs = 10 * 60_000;
/** ... and at most, when runs are far apart. */
const longestSlotWaitMs = 60 * 60_000;

/**
 * How long a run waits for a quota slot about to free: 10 minutes, or an eighth of the expected
 * gap to the next run when that is longer (at most an hour): a slot left to a run 8 hours away
 * is 8 hours late. A day's slots free a little later each day (each request reaches the vendor
 * a moment after the slot it waited for freed), so the wait a cron needs grows by about the
 * request's travel time a day; an hour is years of it.
 */
export function slotWaitMs(runGapMs: number | undefined): number {
  return Math.min(longestSlotWaitMs, Math.max(maxSlotWaitMs, (runGapMs ?? 0) / 8));
}

/** What the scheduler needs to know of one stream. */
export interface ScheduledStream {
  readonly stream: string;
  /** Relative share of the quota (`streams.<name>.weight`, default 1). */
  readonly weight: number;
  readonly watermark: Date | undefined;
  /** The latest window end a counted request of it asked for (loaded or not); undefined: none. */
  readonly askedUntil?: Date | undefined;
  /** Data the planned windows would bring beyond the watermark (ms): end of the last window minus the watermark. */
  readonly newDataMs: number;
  /** Configured minimum of new data per request (`streams.<name>.minInterval`), if any. */
  readonly minIntervalMs: number | undefined;
  /** A first sync, or a span split into several windows: may use every free slot. */
  readonly backlog: boolean;
  /** When this stream's latest counted request was sent. */
  readonly lastRequestAt: Date | undefined;
  /** This stream's counted requests in the last 7 days (the tie-break). */
  readonly recentRequests: number;
}

export interface ScheduleInput {
  readonly now: Date;
  /** Requests the vendor allows per rolling 24 hours. */
  readonly quota: number;
  /** Every enabled stream's weight (the fair share is taken over all of them, not only those planned). */
  readonly weights: readonly number[];
  /** The account's counted requests, newest first (at least the `quota` most recent). */
  readonly recentSpends: readonly Date[];
  /** Start times of this account's earlier syncs, newest first. */
  readonly previousRuns: readonly Date[];
  readonly streams: readonly ScheduledStream[];
}

export interface StreamDecision {
  readonly stream: string;
  /** Request its next window in this run (when a quota slot is free). */
  readonly request: boolean;
  /** Not paced: may use any free slot. */
  readonly backlog: boolean;
  /** When its next request is expected to be due (now, when `request`). */
  readonly dueAt: Date;
  /** Why not now, for the summary. */
  readonly reason?: string;
}

export interface ScheduleDecision {
  /** Every stream, in the order its requests should be sent. */
  readonly streams: readonly StreamDecision[];
  /** The pace: 24 h / quota. */
  readonly paceMs: number;
  /** Paced requests this run may send (backlogs come on top, up to the free slots). */
  readonly pacedAllowance: number;
  /** How long this run waits for a slot about to free ({@link slotWaitMs}). */
  readonly slotWaitMs: number;
}

/** Grid points closer than this to now count as come (cron jitter, start-up time). */
export const paceToleranceMs = 15 * 60_000;

/** How often a stream of `weight` is refreshed when `weights` share `quota` requests a day. */
export function fairIntervalMs(quota: number, weights: readonly number[], weight: number): number {
  const total = weights.reduce((a, b) => a + b, 0);
  return (dayMs * total) / (quota * weight);
}

/**
 * The minimum of new data a request of the stream must bring: `minInterval`, else half its
 * fair-share interval, at most half the expected gap to the next run (`runGapMs`, when known).
 */
export function minNewDataMs(
  quota: number,
  weights: readonly number[],
  s: ScheduledStream,
  runGapMs?: number,
): number {
  if (s.minIntervalMs !== undefined) return s.minIntervalMs;
  const half = fairIntervalMs(quota, weights, s.weight) / 2;
  return runGapMs === undefined ? half : Math.min(half, runGapMs / 2);
}

/**
 * The next paced slot: `max_k(spend_k + k * pace)` over the `quota` most recent requests, taken
 * to the nearest point of the grid laid from the oldest of them (the one that frees next) at the
 * pace. Without the grid each slot would be due a pace after the last one was actually spent, and
 * a run cadence that does not divide the pace (hourly runs, quota 5: a pace of 4.8 h) would make
 * each slot as late as the run after it, and every later one later still: one every 5 h instead
 * of 4.8 h. On the grid, a day's slots come at the same times as the day before.
 */
export function nextPacedSlot(recentSpends: readonly Date[], quota: number, paceMs: number): number {
  const recent = recentSpends.slice(0, quota).map((d) => d.getTime());
  if (recent.length === 0) return Number.NEGATIVE_INFINITY;
  const next = Math.max(...recent.map((s, i) => s + (i + 1) * paceMs));
  const anchor = recent[recent.length - 1]!;
  return anchor + Math.round((next - anchor) / paceMs) * paceMs;
}

/**
 * How long the next run is likely to be away: the upper quartile of the gaps between recent runs
 * (this one included), or undefined with fewer than two. The upper quartile, not the median, so
 * that a person running `sync` at 09:30 and 17:30 (gaps of 8 and 16 hours) is expected to be
 * away 16 hours after the evening run, and spends the night's slot then.
 */
export function expectedRunGapMs(now: Date, previousRuns: readonly Date[]): number | undefined {
  const starts = [now.getTime(), ...previousRuns.slice(0, 8).map((d) => d.getTime())];
  const gaps = starts.slice(1).map((s, i) => starts[i]! - s);
  if (gaps.length < 2) return undefined;
  const sorted = gaps.sort((a, b) => a - b);
  return sorted[Math.floor(0.75 * (sorted.length - 1))]!;
}

/**
 * How many paced requests this run may send: the grid points from the next paced slot (or now,
 * when that has passed) that have come, plus those that would pass before the next run.
 */
export function pacedAllowance(
  now: Date,
  nextSlot: number,
  paceMs: number,
  runGapMs: number | undefined,
  quota: number,
): number {
  const t = now.getTime();
  const first = Math.max(nextSlot, t - paceToleranceMs);
  let n = 0;
  for (let i = 0; i < quota; i++) {
    const point = first + i * paceMs;
    const come = point <= t + paceToleranceMs;
    const missedOtherwise = runGapMs !== undefined && point < t + runGapMs - paceToleranceMs;
    if (!come && !missedOtherwise) break;
    n++;
  }
  return n;
}

/** Stable tie-break that is not the name's alphabetical order. */
function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Streams in the order they deserve a slot: weighted staleness, then fewest recent exports. */
export function byPriority(now: Date, streams: readonly ScheduledStream[]): ScheduledStream[] {
  const staleness = (s: ScheduledStream) => {
    if (!s.watermark) return Number.POSITIVE_INFINITY;
    const end = Math.max(s.watermark.getTime(), s.askedUntil?.getTime() ?? Number.NEGATIVE_INFINITY);
    return (now.getTime() - end) * s.weight;
  };
  return [...streams].sort(
    (a, b) =>
      staleness(b) - staleness(a) ||
      a.recentRequests - b.recentRequests ||
      (a.lastRequestAt?.getTime() ?? 0) - (b.lastRequestAt?.getTime() ?? 0) ||
      hash(a.stream) - hash(b.stream),
  );
}

/** Decides which streams request now, and when the others are due. */
export function schedule(input: ScheduleInput): ScheduleDecision {
  const { now, quota, weights } = input;
  const t = now.getTime();
  const paceMs = dayMs / quota;
  const next = nextPacedSlot(input.recentSpends, quota, paceMs);
  const runGapMs = expectedRunGapMs(now, input.previousRuns);
  const allowance = pacedAllowance(now, next, paceMs, runGapMs, quota);
  let left = allowance;
  // The paced slots after this run's, in order: the k-th waiting stream is due at the k-th.
  let nextPoint = Math.max(next, t) + allowance * paceMs;
  const decisions: StreamDecision[] = [];
  for (const s of byPriority(now, input.streams)) {
    const minData = minNewDataMs(quota, weights, s, runGapMs);
    if (s.backlog) {
      decisions.push({ stream: s.stream, request: true, backlog: true, dueAt: now });
    } else if (s.newDataMs >= minData && left > 0) {
      left--;
      decisions.push({ stream: s.stream, request: true, backlog: false, dueAt: now });
    } else {
      const worthwhileAt = t + Math.max(0, minData - s.newDataMs);
      const dueAt = new Date(Math.max(worthwhileAt, nextPoint));
      nextPoint = dueAt.getTime() + paceMs;
      decisions.push({
        stream: s.stream,
        request: false,
        backlog: false,
        dueAt,
        reason:
          s.newDataMs < minData
            ? `${hours(s.newDataMs)} h of new data, less than the ${hours(minData)} h a request should bring; next export due at ${dueAt.toISOString()}`
            : `the quota is paced at one request every ${hours(paceMs)} h; next export due at ${dueAt.toISOString()}`,
      });
    }
  }
  return { streams: decisions, paceMs, pacedAllowance: allowance, slotWaitMs: slotWaitMs(runGapMs) };
}

function hours(ms: number): string {
  return (ms / 3_600_000).toFixed(1);
}
