import { describe, expect, it } from 'vitest';
import { PlanError } from '../../src/errors.js';
import { horizon, planExplicit, planStream, stalestFirst } from '../../src/plan/planner.js';

const d = (s: string) => new Date(s);
const rule = { historyAuthorized: false, marginDays: 1 };
const day = 86_400_000;
const base = {
  stream: 'copilot_kb',
  start: undefined,
  lookbackMs: day,
  settleMs: 15 * 60_000,
  maxWindowDays: undefined,
};

describe('horizon', () => {
  it('is 4 calendar months back plus the margin, clamping month ends', () => {
    expect(horizon(d('2026-05-31T12:00:00Z'), rule).toISOString()).toBe('2026-02-01T12:00:00.000Z'); // Jan 31 + 1 day
    expect(horizon(d('2026-03-31T00:00:00Z'), rule).toISOString()).toBe('2025-12-01T00:00:00.000Z'); // Nov 30 + 1 day
    expect(horizon(d('2028-06-30T00:00:00Z'), { ...rule, marginDays: 0 }).toISOString()).toBe(
      '2028-02-29T00:00:00.000Z',
    ); // leap year
    expect(horizon(d('2027-06-30T00:00:00Z'), { ...rule, marginDays: 0 }).toISOString()).toBe(
      '2027-02-28T00:00:00.000Z',
    );
  });
});

describe('planStream', () => {
  const now = d('2026-11-28T12:00:00Z');

  it('runs from watermark minus lookback to now minus settle, as one window', () => {
    const p = planStream({ ...base, watermark: d('2026-11-27T00:00:00Z') }, now, rule);
    expect(p.windows).toEqual([{ start: d('2026-11-26T00:00:00Z'), end: d('2026-11-28T11:45:00Z') }]);
    expect(p.gaps).toEqual([]);
  });

  it('starts a never-synced stream at its configured start, or the horizon', () => {
    expect(
      planStream({ ...base, watermark: undefined, start: d('2026-11-01T00:00:00Z') }, now, rule).windows[0]!
        .start,
    ).toEqual(d('2026-11-01T00:00:00Z'));
    expect(planStream({ ...base, watermark: undefined }, now, rule).windows[0]!.start).toEqual(
      horizon(now, rule),
    );
  });

  it('clamps a watermark older than the horizon and records the skipped span as a gap', () => {
    const p = planStream({ ...base, watermark: d('2026-05-01T00:00:00Z') }, now, rule);
    const h = horizon(now, rule);
    expect(p.windows[0]!.start).toEqual(h);
    expect(p.gaps).toEqual([
      { start: d('2026-05-01T00:00:00Z'), end: h, reason: expect.stringContaining('4-month') },
    ]);
    expect(p.moveWatermarkTo).toEqual(h);
  });

  it('keeps the lookback when the due span fits one window', () => {
    const p = planStream({ ...base, watermark: d('2026-11-27T00:00:00Z'), maxWindowDays: 3 }, now, rule);
    expect(p.windows).toEqual([{ start: d('2026-11-26T00:00:00Z'), end: d('2026-11-28T11:45:00Z') }]);
    expect(p.moveWatermarkTo).toBeUndefined();
  });

  it('records no gap for lookback that only overlaps loaded data past the horizon', () => {
    const h = horizon(now, rule);
    const p = planStream({ ...base, watermark: new Date(h.getTime() + 3_600_000) }, now, rule);
    expect(p.windows[0]!.start).toEqual(h);
    expect(p.gaps).toEqual([]);
  });

  it('splits at the horizon instead of clamping when history is authorized', () => {
    const p = planStream({ ...base, watermark: d('2026-05-01T00:00:00Z') }, now, {
      ...rule,
      historyAuthorized: true,
    });
    expect(p.windows.map((w) => w.start)).toEqual([d('2026-04-30T00:00:00Z'), horizon(now, rule)]);
    expect(p.gaps).toEqual([]);
  });

  it('splits a backlog at maxWindowDays, starting at the watermark without the lookback', () => {
    const p = planStream({ ...base, watermark: d('2026-11-20T00:00:00Z'), maxWindowDays: 3 }, now, rule);
    expect(p.windows.map((w) => w.start.toISOString())).toEqual([
      '2026-11-20T00:00:00.000Z',
      '2026-11-23T00:00:00.000Z',
      '2026-11-26T00:00:00.000Z',
    ]);
    expect(p.windows.at(-1)!.end).toEqual(d('2026-11-28T11:45:00Z'));
  });

  it('lets the lookback overlap the last window so late rows are reloaded', () => {
    const last = { start: d('2026-11-27T00:00:00Z'), end: d('2026-11-28T00:00:00Z') };
    const p = planStream({ ...base, watermark: last.end }, now, rule);
    expect(p.windows[0]!.start).toEqual(last.start);
  });

  it('has nothing due when the window would be empty', () => {
    const p = planStream({ ...base, watermark: d('2026-11-28T11:50:00Z'), lookbackMs: 0 }, now, rule);
    expect(p.windows).toEqual([]);
    expect(p.note).toMatch(/nothing due/);
  });

  it('keeps windows in UTC across a DST change in America/New_York', () => {
    // Clocks go back on 2026-11-01; the window is half-open UTC, 25 wall-clock hours long.
    const p = planExplicit(
      'copilot_kb',
      { start: d('2026-11-01T04:00:00Z'), end: d('2026-11-02T05:00:00Z') },
      1,
      d('2026-11-28T00:00:00Z'),
      rule,
    );
    expect(p.windows).toEqual([
      { start: d('2026-11-01T04:00:00Z'), end: d('2026-11-02T04:00:00Z') },
      { start: d('2026-11-02T04:00:00Z'), end: d('2026-11-02T05:00:00Z') },
    ]);
  });
});

describe('planExplicit', () => {
  const now = d('2026-11-28T12:00:00Z');
  it('refuses a window older than the horizon unless authorized', () => {
    const w = { start: d('2026-06-01T00:00:00Z'), end: d('2026-06-02T00:00:00Z') };
    expect(() => planExplicit('copilot_kb', w, undefined, now, rule)).toThrow(PlanError);
    expect(() => planExplicit('copilot_kb', w, undefined, now, rule)).toThrow(/historyAuthorized/);
    expect(
      planExplicit('copilot_kb', w, undefined, now, { ...rule, historyAuthorized: true }).windows,
    ).toEqual([w]);
  });

  it('refuses an empty or future window', () => {
    expect(() => planExplicit('s', { start: now, end: now }, undefined, now, rule)).toThrow(/before/);
    expect(() =>
      planExplicit(
        's',
        { start: d('2026-11-28T00:00:00Z'), end: d('2026-11-29T00:00:00Z') },
        undefined,
        now,
        rule,
      ),
    ).toThrow(/future/);
  });
});

describe('stalestFirst', () => {
  it('orders never-synced streams first, then the oldest watermark', () => {
    const order = stalestFirst([
      { stream: 'b', watermark: d('2026-11-02T00:00:00Z') },
      { stream: 'a', watermark: d('2026-11-01T00:00:00Z') },
      { stream: 'c', watermark: undefined },
    ]).map((s) => s.stream);
    expect(order).toEqual(['c', 'a', 'b']);
  });
});
