import { describe, expect, it } from 'vitest';
import { tenantScenarios } from '../support/schedule-sim-tenants.js';

/**
 * The tenants of issue 25 on short runs (no slot left idle). The bounds are the issue's, scaled to the
 * run's length.
 */
describe('schedule simulator: no slot left idle (e2e)', { timeout: 300_000 }, () => {
  const { simulate } = tenantScenarios();

  it('a person syncing twice a day beside someone else: at least 90% of what those run times allow', async () => {
    const r = await simulate('by-hand-with-outsider', 10);
    expect(r.metrics.tasks.slotsRunsAllow).toBeGreaterThan(0);
    expect(r.metrics.exportsUsed).toBeGreaterThanOrEqual(0.9 * r.metrics.tasks.slotsRunsAllow!);
  });

  it('no idle slot: weights on a daily cron, a quota of 5 on an hourly cron, and an outage that counts nothing', async () => {
    const weighted = await simulate('daily-weighted', 8);
    expect(weighted.metrics.exportsUsed).toBeGreaterThanOrEqual(weighted.metrics.exportsMax - 1);
    const five = await simulate('hourly-quota-5', 5);
    expect(five.metrics.exportsUsed).toBe(five.metrics.exportsMax);
    const outage = await simulate('final-503', 6);
    expect(outage.metrics.exportsUsed).toBeGreaterThanOrEqual(outage.metrics.exportsMax - 1);
    expect(outage.metrics.tasks.outageRequests).toBeGreaterThan(0);
    expect(outage.metrics.tasks.outageRequestsCounted).toBe(0);
  });

  it('an 8-hourly cron for 40 days loses no slot', async () => {
    const r = await simulate('every-8h-200d', 40);
    expect(r.metrics.exportsUsed).toBe(r.metrics.exportsMax);
    expect(r.metrics.refusals).toBe(0);
  });
});
