import { describe, expect, it } from 'vitest';
import { horizon, horizonRefusalAdvice } from '../../src/plan/planner.js';

const now = new Date('2026-11-28T12:00:00Z');
const day = 86_400_000;

describe('the advice of a refusal under the 4-month rule', () => {
  it('names horizonMarginDays, not historyAuthorized, for a window the planner kept inside the horizon', () => {
    const rule = { historyAuthorized: false, marginDays: 1 };
    const start = horizon(now, rule);
    const advice = horizonRefusalAdvice(
      { start, end: new Date(start.getTime() + day) },
      now,
      rule,
      'account',
    );
    expect(advice).toBe(
      "the window starts no earlier than the connector's horizon (2026-07-29T12:00:00.000Z: 4 calendar months ago plus account.horizonMarginDays, 1 day(s)), so the API counts the 4 months its own way: raise account.horizonMarginDays to 2 or more",
    );
    expect(advice).not.toContain('historyAuthorized');
    // The refusal comes a few seconds after the planning, when the horizon has moved on.
    const later = new Date(now.getTime() + 5_000);
    const window = { start, end: new Date(start.getTime() + day) };
    expect(horizonRefusalAdvice(window, later, rule, 'account')).toContain('raise account.horizonMarginDays');
    // Under historyAuthorized, a window inside the 4 months is refused for the margin too.
    expect(
      horizonRefusalAdvice(window, later, { ...rule, historyAuthorized: true }, 'accounts.east'),
    ).toContain('raise accounts.east.horizonMarginDays to 2 or more');
  });

  it('says the authorisation is missing for a window older than the horizon sent under historyAuthorized', () => {
    const rule = { historyAuthorized: true, marginDays: 2 };
    const start = new Date(horizon(now, rule).getTime() - 30 * day);
    const advice = horizonRefusalAdvice({ start, end: horizon(now, rule) }, now, rule, 'accounts.east');
    expect(advice).toContain(
      'because accounts.east.historyAuthorized is true, and the API does not take that',
    );
    expect(advice).toContain(
      'ask NICE to authorise older data for this account, or set historyAuthorized: false',
    );
    expect(advice).not.toContain('horizonMarginDays');
  });
});
