import { DateTime } from 'luxon';
import { PlanError } from '../errors.js';

import type { Window } from '../model/window.js';

export type { Window };

export interface StreamPlanInput {
  readonly stream: string;
  readonly watermark: Date | undefined;
  /** Configured first-sync start; default the horizon. */
  readonly start: Date | undefined;
  readonly lookbackMs: number;
  readonly settleMs: number;
  readonly maxWindowDays: number | undefined;
}

export interface HorizonRule {
  readonly historyAuthorized: boolean;
  /** Days added to the 4-calendar-month horizon, so that the vendor's own arithmetic never refuses us. */
  readonly marginDays: number;
}

export interface PlannedGap {
  readonly start: Date;
  readonly end: Date;
  readonly reason: string;
}

export interface StreamPlan {
  readonly stream: string;
  readonly windows: readonly Window[];
  /** Spans skipped because of the 4-month rule: recorded in the state store, shown by `status`. */
  readonly gaps: readonly PlannedGap[];
  /** Why nothing is due, when nothing is. */
  readonly note?: string;
  /**
   * A watermark older than the horizon moves up to it once the skipped span is recorded as a
   * gap: what lies before can no longer be exported, and planning from it again would request
   * the whole horizon on every run.
   */
  readonly moveWatermarkTo?: Date;
}

const dayMs = 86_400_000;

/**
 * The oldest start the vendor accepts now: 4 calendar months before `now` (UTC; from May 31st
 * that is January 31st, from March 31st November 30th, as luxon clamps month ends), plus the
 * safety margin.
 */
export function horizon(now: Date, rule: HorizonRule): Date {
  const fourMonths = DateTime.fromJSDate(now, { zone: 'utc' }).minus({ months: 4 });
  return new Date(fourMonths.toMillis() + rule.marginDays * dayMs);
}

/**
 * What to change when the API refuses a window under its 4-month rule, which the planner let
 * through: a window starting more than 4 months ago was sent because the account says NICE
 * authorised older data, so that authorisation is missing; any other started no earlier than
 * the horizon as the connector counted it when planning, so the API counts the 4 months
 * differently (its time zone, its month lengths) and the margin is too small. `settingsPath`:
 * `account` or `accounts.<key>`.
 */
export function horizonRefusalAdvice(
  window: Window,
  now: Date,
  rule: HorizonRule,
  settingsPath: string,
): string {
  const limit = horizon(now, rule);
  const fourMonths = horizon(now, { ...rule, marginDays: 0 });
  if (rule.historyAuthorized && window.start < fourMonths)
    return `the window starts more than 4 months ago (${fourMonths.toISOString()}) because ${settingsPath}.historyAuthorized is true, and the API does not take that: ask NICE to authorise older data for this account, or set historyAuthorized: false`;
  return `the window starts no earlier than the connector's horizon (${limit.toISOString()}: 4 calendar months ago plus ${settingsPath}.horizonMarginDays, ${rule.marginDays} day(s)), so the API counts the 4 months its own way: raise ${settingsPath}.horizonMarginDays to ${Math.floor(rule.marginDays) + 1} or more`;
}

function split(start: Date, end: Date, maxDays: number | undefined, cuts: readonly Date[]): Window[] {
  const points = [
    start.getTime(),
    ...cuts.map((c) => c.getTime()).filter((c) => c > start.getTime() && c < end.getTime()),
    end.getTime(),
  ];
  const out: Window[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    let s = points[i]!;
    const e = points[i + 1]!;
    const step = maxDays ? maxDays * dayMs : Number.POSITIVE_INFINITY;
    while (s < e) {
      const next = Math.min(e, s + step);
      out.push({ start: new Date(s), end: new Date(next) });
      s = next;
    }
  }
  return out;
}

/**
 * Plans one stream's windows (docs/contract.md, "Sync semantics"). Pure: state and clock in, windows out.
 *
 * - Incremental: from (watermark minus lookback) to (now minus settle); a stream never synced
 *   starts at its configured start, or the horizon.
 * - A start older than the horizon is clamped to it, and the skipped span (what was never loaded)
 *   becomes a gap, unless the account is authorized for history; then the window is split at the
 *   horizon instead.
 * - `maxWindowDays` splits a window; otherwise one export covers everything due. A span that
 *   needs several windows is a backlog: it starts at the watermark, without the lookback, so
 *   that every export of a backlog moves the watermark by a whole window.
 */
export function planStream(input: StreamPlanInput, now: Date, rule: HorizonRule): StreamPlan {
  const end = new Date(now.getTime() - input.settleMs);
  const limit = horizon(now, rule);
  const gaps: PlannedGap[] = [];
  let start: Date;
  let loadedUntil: Date | undefined;
  if (input.watermark) {
    const maxMs = input.maxWindowDays ? input.maxWindowDays * dayMs : Number.POSITIVE_INFINITY;
    const backlog = end.getTime() - input.watermark.getTime() > maxMs;
    start = new Date(input.watermark.getTime() - (backlog ? 0 : input.lookbackMs));
    loadedUntil = input.watermark;
  } else {
    start = input.start ?? limit;
  }
  const cuts: Date[] = [];
  if (start < limit) {
    if (rule.historyAuthorized) {
      cuts.push(limit);
    } else {
      const gapStart = loadedUntil && loadedUntil > start ? loadedUntil : start;
      if (gapStart < limit) {
        gaps.push({
          start: gapStart,
          end: limit,
          reason:
            'older than the 4-month export horizon (set account.historyAuthorized if NICE authorised older data)',
        });
      }
      start = limit;
    }
  }
  const moveWatermarkTo =
    !rule.historyAuthorized && loadedUntil && loadedUntil < limit ? { moveWatermarkTo: limit } : {};
  if (start >= end) {
    return {
      stream: input.stream,
      windows: [],
      gaps,
      note: `nothing due before ${new Date(start.getTime() + input.settleMs).toISOString()}`,
      ...moveWatermarkTo,
    };
  }
  return {
    stream: input.stream,
    windows: split(start, end, input.maxWindowDays, cuts),
    gaps,
    ...moveWatermarkTo,
  };
}

/**
 * An explicit window (`--start`/`--end`, an Airflow data interval). Refused when it reaches back
 * past the horizon unless authorized, or ends in the future; split by `maxWindowDays` and, when
 * authorized, at the horizon.
 */
export function planExplicit(
  stream: string,
  window: Window,
  maxWindowDays: number | undefined,
  now: Date,
  rule: HorizonRule,
): StreamPlan {
  if (!(window.start < window.end))
    throw new PlanError(
      `--start ${window.start.toISOString()} must be before --end ${window.end.toISOString()}`,
    );
  if (window.end > now)
    throw new PlanError(
      `--end ${window.end.toISOString()} is in the future; a window must have ended before it is exported`,
    );
  const limit = horizon(now, rule);
  if (window.start < limit && !rule.historyAuthorized) {
    throw new PlanError(
      `--start ${window.start.toISOString()} is older than the 4-month export horizon (${limit.toISOString()}); the API refuses it unless NICE authorised older data (account.historyAuthorized: true)`,
    );
  }
  const cuts = window.start < limit ? [limit] : [];
  return { stream, windows: split(window.start, window.end, maxWindowDays, cuts), gaps: [] };
}

/** Orders due streams stalest first: never synced before, then the oldest watermark. */
export function stalestFirst<T extends { watermark: Date | undefined; stream: string }>(
  items: readonly T[],
): T[] {
  return [...items].sort((a, b) => {
    const wa = a.watermark?.getTime() ?? Number.NEGATIVE_INFINITY;
    const wb = b.watermark?.getTime() ?? Number.NEGATIVE_INFINITY;
    return wa - wb || a.stream.localeCompare(b.stream);
  });
}
