import type { StreamConfig } from '../ports/run-settings.js';
import { quotaWindowMs as dayMs } from '../ports/state-ports.js';
import { forecast } from './forecast.js';
import { fairIntervalMs, paceToleranceMs } from './scheduler.js';

const hourMs = 3_600_000;

/** How stale a stream's table may get before a freshness check warns, and before it errs. */
export interface FreshnessThreshold {
  readonly stream: string;
  /**
   * The largest lag (now minus watermark, settle included) the scheduler gives the stream in a
   * steady state at this cadence, played forward by the forecast from a first sync.
   */
  readonly expectedWorstLagMs: number;
  /** How often the stream is refreshed in turn: its share of the quota (`fairIntervalMs`). */
  readonly refreshIntervalMs: number;
  /** One slot or one run missed: the larger of the pace (24 h / quota) and the cadence. */
  readonly marginMs: number;
  /** Expected worst lag plus the margin, in whole hours (rounded up). */
  readonly warnAfterHours: number;
  /** The warning plus one more turn of the stream missed, in whole hours. */
  readonly errorAfterHours: number;
}

/**
 * Freshness thresholds a healthy connector never crosses (`dbt-sources`), from the config: the
 * scheduler is played forward (`forecast`, pure) over a first sync and several turns of every
 * stream, with a run every `runEveryMs`, and each stream's worst lag after the warm-up is
 * measured. Hourly runs at quota 3 with four equal streams give 32.1 h: warn after 41 h (plus
 * the 8 h pace), error after 73 h (plus a 32 h turn); daily runs give 48.1 h, 73 h and 105 h.
 * Runs more often than every 15 minutes are played as 15 minutes apart: the scheduler's pacing
 * does not tell them apart.
 */
export function freshnessThresholds(input: {
  readonly quota: number;
  readonly streams: readonly StreamConfig[];
  readonly runEveryMs: number;
}): FreshnessThreshold[] {
  const { quota, streams } = input;
  if (streams.length === 0) return [];
  const everyMs = Math.max(input.runEveryMs, paceToleranceMs);
  const weights = streams.map((s) => s.weight);
  const turns = streams.map((s) => fairIntervalMs(quota, weights, s.weight));
  const longestTurn = Math.max(...turns, everyMs);
  // Warm-up: the first sync (unpaced; streams beyond the quota wait for the next day's slots)
  // settles within a few turns; then several turns are measured. The forecast is relative to
  // its start, so any fixed instant serves as one.
  const warmUpMs = Math.max(7 * dayMs, 3 * longestTurn);
  const measureMs = Math.max(14 * dayMs, 4 * longestTurn);
  const origin = Date.UTC(2026, 0, 5);
  const runs: Date[] = [];
  for (let t = origin; t < origin + warmUpMs + measureMs; t += everyMs) runs.push(new Date(t));
  const f = forecast({
    now: new Date(origin),
    quota,
    runs,
    spends: [],
    previousRuns: [],
    measureFrom: new Date(origin + warmUpMs),
    streams: streams.map((s) => ({
      stream: s.schema.name,
      weight: s.weight,
      watermark: undefined,
      settleMs: s.settleMs,
      minIntervalMs: s.minIntervalMs,
      requests: [],
    })),
  });
  const marginMs = Math.max(dayMs / quota, everyMs);
  return f.streams.map((s, i) => {
    const refreshIntervalMs = turns[i]!;
    const warnMs = s.worstLagMs + marginMs;
    return {
      stream: s.stream,
      expectedWorstLagMs: s.worstLagMs,
      refreshIntervalMs,
      marginMs,
      warnAfterHours: Math.ceil(warnMs / hourMs),
      errorAfterHours: Math.ceil((warnMs + refreshIntervalMs) / hourMs),
    };
  });
}
