import { describe, expect, it } from 'vitest';
import { forecast } from '../../src/plan/forecast.js';
import {
  byPriority,
  expectedRunGapMs,
  fairIntervalMs,
  minNewDataMs,
  nextPacedSlot,
  pacedAllowance,
  type ScheduledStream,
  schedule,
} from '../../src/plan/scheduler.js';

const h = 3_600_000;
const day = 24 * h;
const t0 = Date.parse('2026-11-01T00:00:00Z');
const at = (ms: number) => new Date(t0 + ms);

function stream(name: string, over: Partial<ScheduledStream> = {}): ScheduledStream {
  return {
    stream: name,
    weight: 1,
    watermark: undefined,
    newDataMs: 10 * day,
    minIntervalMs: undefined,
    backlog: false,
    lastRequestAt: undefined,
    recentRequests: 0,
    ...over,
  };
}

/** The policy played forward over `runTimes` from nothing synced, lags measured after day 3. */
function simulate(runTimes: readonly number[], quota = 3, names = ['a', 'b', 'c', 'd']) {
  const f = forecast({
    now: at(0),
    quota,
    runs: runTimes.map((t) => new Date(t)),
    spends: [],
    previousRuns: [],
    measureFrom: at(3 * day),
    streams: names.map((n) => ({
      stream: n,
      weight: 1,
      watermark: undefined,
      settleMs: 15 * 60_000,
      minIntervalMs: undefined,
      requests: [],
    })),
  });
  return {
    spends: f.spends.map((d) => d.getTime()),
    requests: new Map(f.streams.map((s) => [s.stream, s.requests])),
    worstAfterDay3: Math.max(...f.streams.map((s) => s.worstLagMs)),
  };
}

const every = (stepMs: number, days: number, offset = 0) =>
  Array.from({ length: Math.floor((days * day) / stepMs) }, (_, i) => t0 + offset + i * stepMs);

describe('quota scheduler', () => {
  it('shares 3 slots a day among 4 streams as one every 32 h each', () => {
    expect(fairIntervalMs(3, [1, 1, 1, 1], 1)).toBe(32 * h);
    expect(fairIntervalMs(3, [2, 1, 1], 2)).toBe(16 * h);
  });

  it('spreads a bunch of requests over the pace instead of spending them all when they free', () => {
    const bunch = [at(0), at(0), at(0)];
    expect(nextPacedSlot(bunch, 3, 8 * h)).toBe(t0 + 24 * h);
    expect(nextPacedSlot([at(24 * h), at(0), at(0)], 3, 8 * h)).toBe(t0 + 32 * h);
  });

  it('lets an hourly cron spend one slot per pace and a daily cron the whole day in one run', () => {
    const next = t0 + 8 * h;
    expect(pacedAllowance(at(8 * h), next, 8 * h, h, 3)).toBe(1);
    expect(pacedAllowance(at(7 * h), next, 8 * h, h, 3)).toBe(0);
    expect(pacedAllowance(at(8 * h), next, 8 * h, day, 3)).toBe(3);
    expect(expectedRunGapMs(at(3 * h), [at(2 * h), at(h), at(0)])).toBe(h);
    expect(expectedRunGapMs(at(3 * h), [at(2 * h)])).toBeUndefined();
  });

  it("keeps a day's slots at the times of the day before: a slot spent late does not make the next one late", () => {
    // Quota 5 (a pace of 4.8 h), hourly runs: the slot due at 4.8 h went at 5 h.
    const pace = 4.8 * h;
    expect(nextPacedSlot([at(5 * h), at(0)], 5, pace)).toBe(t0 + 9.6 * h);
    expect(nextPacedSlot([at(19 * h), at(14 * h), at(9 * h), at(5 * h), at(0)], 5, pace)).toBe(t0 + 24 * h);
    expect(nextPacedSlot([at(24 * h), at(19 * h), at(14 * h), at(9 * h), at(5 * h)], 5, pace)).toBe(
      t0 + 29 * h,
    );
    expect(nextPacedSlot([], 3, 8 * h)).toBe(Number.NEGATIVE_INFINITY);
  });

  it('asks for no more new data than half the time to the next run', () => {
    const weights = [3, 1, 1, 1];
    // Weight 1 of 6 at quota 3: a turn every 48 h, so 24 h by default; a daily cron brings 24 h.
    expect(minNewDataMs(3, weights, stream('b'))).toBe(24 * h);
    expect(minNewDataMs(3, weights, stream('b'), day)).toBe(12 * h);
    expect(minNewDataMs(3, weights, stream('b'), h)).toBe(0.5 * h);
    expect(minNewDataMs(3, weights, stream('b', { minIntervalMs: 30 * h }), day)).toBe(30 * h);
  });

  it("counts a window requested and failed as the stream's turn", () => {
    const order = byPriority(at(40 * h), [
      stream('failing', { watermark: at(0), askedUntil: at(30 * h) }),
      stream('healthy', { watermark: at(20 * h), askedUntil: at(20 * h) }),
    ]);
    expect(order.map((s) => s.stream)).toEqual(['healthy', 'failing']);
  });

  it('breaks ties by fewest recent exports and never by the name', () => {
    const w = at(0);
    const order = byPriority(at(10 * h), [
      stream('a', { watermark: w, recentRequests: 3 }),
      stream('z', { watermark: w, recentRequests: 1 }),
    ]);
    expect(order.map((s) => s.stream)).toEqual(['z', 'a']);
  });

  it('sends nothing when a run comes right after another (quota 8)', () => {
    const d = schedule({
      now: at(10_000),
      quota: 8,
      weights: [1, 1, 1, 1],
      recentSpends: [at(0), at(0), at(0), at(0)],
      previousRuns: [at(0)],
      streams: ['a', 'b', 'c', 'd'].map((n) => stream(n, { watermark: at(0), newDataMs: 2_000 })),
    });
    expect(d.streams.filter((s) => s.request)).toEqual([]);
    expect(d.streams[0]!.reason).toMatch(/next export due at/);
  });

  it.each([
    ['hourly cron', every(h, 30, 37_000), 33],
    ['8-hourly cron', every(8 * h, 30, 45_000), 33],
    ['daily cron', every(day, 30, 2 * h), 49],
  ])('%s: steady-state worst lag within bounds and the quota used', (_name, runs, boundH) => {
    const r = simulate(runs);
    expect(r.worstAfterDay3 / h).toBeLessThanOrEqual(boundH);
    expect(r.spends.length).toBeGreaterThanOrEqual(88);
    // The vendor's rule: never more than 3 in any rolling 24 hours.
    for (const s of r.spends)
      expect(r.spends.filter((x) => x > s - day && x <= s).length).toBeLessThanOrEqual(3);
    // No stream starves: each gets about a quarter of the slots.
    for (const reqs of r.requests.values()) expect(reqs.length).toBeGreaterThanOrEqual(20);
  });

  it('spends all 150 slots of a quota of 5 in 30 days of an hourly cron', () => {
    const r = simulate(every(h, 30, 37_000), 5);
    expect(r.spends.length).toBeGreaterThanOrEqual(149);
  });
});
