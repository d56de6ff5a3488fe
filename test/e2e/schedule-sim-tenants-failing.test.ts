import { describe, expect, it } from 'vitest';
import { tenantScenarios } from '../support/schedule-sim-tenants.js';

/**
 * The tenants of issue 25 on short runs (a table refused, a stream failing, someone else on the quota). The bounds are the issue's, scaled to the
 * run's length.
 */
describe('schedule simulator: a table refused, a stream failing, someone else on the quota (e2e)', {
  timeout: 300_000,
}, () => {
  const { simulate, lag } = tenantScenarios();

  it('a table refused from day 3 of 8: asked at most once a day, its slot goes to another stream at once, the others refreshed within 26 h', async () => {
    const r = await simulate('refused-table', 8, 4);
    const m = r.metrics;
    const refused = m.refusedByStream.autopilot_gr!;
    expect(refused.requests).toBeGreaterThan(0);
    expect(refused.requests).toBe(refused.days);
    expect(m.tasks.slotGivenOn).toBe(m.tasks.refusedRuns);
    expect(m.tasks.othersExportsAfter).toBeGreaterThanOrEqual(m.tasks.slotsAfter! - 1);
    for (const s of ['copilot_kb', 'copilot_as', 'copilot_aq'])
      expect(lag(r, s).steadyWorstLagH, s).toBeLessThanOrEqual(26);
    // Only the run that met the refusal first failed.
    expect(m.tasks.failedRuns).toBe(1);
    expect(m.refusals).toBe(0);
  });

  it('a stream failing at the vendor for 7 days: at most one slot a day, the others within 45 h', async () => {
    const r = await simulate('failing-stream', 10);
    expect(r.metrics.tasks.failingStreamSlots).toBeGreaterThan(0);
    expect(r.metrics.tasks.failingStreamMostInADay).toBeLessThanOrEqual(1);
    for (const s of ['copilot_kb', 'copilot_as', 'autopilot_gr'])
      expect(lag(r, s).steadyWorstLagH, s).toBeLessThanOrEqual(45);
  });

  it('someone else exporting once a day: learned at the first refusals, every slot used; with reserveForOthers: 1 never refused', async () => {
    const r = await simulate('outsider-daily', 12);
    const m = r.metrics;
    expect(m.refusals + m.outsider.refused).toBeLessThanOrEqual(3);
    expect(m.exportsUsed + m.outsider.accepted).toBeGreaterThanOrEqual(m.exportsMax - 2);
    const reserved = await simulate('outsider-daily-reserved', 6);
    expect(reserved.metrics.outsider.refused).toBe(0);
    expect(reserved.metrics.invariants.maxExportsPerRolling24h).toBeLessThanOrEqual(2);
    expect(reserved.metrics.refusals).toBe(0);
    expect(reserved.metrics.exportsUsed + reserved.metrics.outsider.accepted).toBeGreaterThanOrEqual(
      reserved.metrics.exportsMax - 1,
    );
  });
});
