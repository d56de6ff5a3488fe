import { afterEach, describe, expect, it } from 'vitest';
import { type ScenarioResult, simulateSchedule } from '../../bench/schedule-sim.js';
import { fairIntervalMs } from '../../src/plan/scheduler.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The schedule simulator (`npm run simulate-schedule`) on short runs: it drives the real engine on
 * a virtual clock. `expectInvariants` asserts what any correct engine keeps, whatever its
 * scheduling policy; the last tests assert the bounds of issue 14's policy (quota 3, four streams:
 * one slot every 8 h, each stream refreshed every 32 h). A few seconds each on PostgreSQL
 * (DATABASE_URL) and on the embedded PGlite fallback.
 */
describe('schedule simulator (e2e)', { timeout: 150_000 }, () => {
  const dbs: TestDatabase[] = [];
  afterEach(async () => {
    for (const db of dbs.splice(0)) await db.drop();
  });

  // The scheduler's default minimum of new data per request: half the fair-share interval, 16 h.
  const minNewDataMs = fairIntervalMs(3, [1, 1, 1, 1], 1) / 2;

  const simulate = async (name: string, days: number, warmupDays = 1): Promise<ScenarioResult> => {
    const db = await createTestDatabase('schedsim_test');
    dbs.push(db);
    return simulateSchedule(name, {
      days,
      seed: 7,
      warmupDays,
      littleDataMs: minNewDataMs,
      database: { url: db.url, copy: db.copy },
    });
  };

  const expectInvariants = (r: ScenarioResult) => {
    const m = r.metrics;
    process.stderr.write(
      `${r.scenario}, ${m.days} days: ${m.exportsUsed} of ${m.exportsMax} exports, ${m.refusals} quota 400s, ` +
        `steady worst lag ${m.streams.map((s) => s.steadyWorstLagH).join('/')} h, tasks ${JSON.stringify(m.tasks)}\n`,
    );
    expect(m.runs).toBeGreaterThan(0);
    // The engine never sends a request its own count of the last 24 h forbids; a quota 400 can
    // only come from the vendor counting from a later instant (reported above).
    expect(m.invariants.attemptsOverOwnCount).toBe(0);
    expect(m.otherRejections).toEqual([]);
    expect(m.invariants.maxExportsPerRolling24h).toBeLessThanOrEqual(3);
    expect(m.exportsUsed).toBeLessThanOrEqual(m.exportsMax);
    expect(m.invariants.watermarkRegressions).toEqual([]);
    expect(m.invariants.duplicateWindows).toEqual([]);
    expect(m.streams.map((s) => s.stream)).toEqual([
      'copilot_kb',
      'copilot_as',
      'copilot_aq',
      'autopilot_gr',
    ]);
  };

  it('hourly cron for 3 days: quota, watermarks and windows stay consistent', async () => {
    const r = await simulate('hourly', 3);
    expectInvariants(r);
    expect(r.metrics.runs).toBe(72);
    expect(r.metrics.exportsUsed).toBeGreaterThan(0);
  });

  it('the example Airflow DAG (explicit daily intervals, retries) for 4 days: no window requested twice', async () => {
    const r = await simulate('airflow-daily-intervals', 4);
    expectInvariants(r);
    expect(r.metrics.tasks.dagRuns).toBeGreaterThan(0);
  });

  /** The policy's bounds: steady-state worst lag, no quota 400, no request with little new data. */
  const expectBounds = (r: ScenarioResult, worstLagH: number) => {
    const m = r.metrics;
    expect(minNewDataMs).toBe(16 * 3_600_000);
    for (const s of m.streams) expect(s.steadyWorstLagH, s.stream).toBeLessThanOrEqual(worstLagH);
    expect(m.refusals).toBe(0);
    // Every request brings at least the minimum of new data, unless a first sync or explicit.
    expect(m.littleNewData).toBe(0);
    // No stream starves: each gets about a quarter of the exports.
    for (const s of m.streams)
      expect(s.exports, s.stream).toBeGreaterThanOrEqual(Math.floor(m.exportsUsed / 4) - 1);
  };

  it('hourly cron for 6 days: worst lag at most 33 h after 3 days, every slot used, no quota 400', async () => {
    const r = await simulate('hourly', 6, 3);
    expectInvariants(r);
    expectBounds(r, 33);
    expect(r.metrics.exportsUsed).toBeGreaterThanOrEqual(r.metrics.exportsMax - 1);
  });

  it('daily cron for 8 days: worst lag at most 49 h after 3 days', async () => {
    const r = await simulate('daily', 8, 3);
    expectInvariants(r);
    expectBounds(r, 49);
    expect(r.metrics.exportsUsed).toBeGreaterThanOrEqual(r.metrics.exportsMax - 1);
  });

  it('the hourly incremental Airflow DAG for 6 days: no failed task, worst lag at most 33 h', async () => {
    const r = await simulate('airflow-hourly-incremental', 6, 3);
    expectInvariants(r);
    expectBounds(r, 33);
    expect(r.metrics.tasks.failedTasks).toBe(0);
    expect(r.metrics.tasks.succeededTasks).toBeGreaterThan(0);
  });
});

/**
 * The tenants of issue 25 on short runs: a table the API refuses, a stream failing at the
 * vendor, someone else using the quota, weights on a daily cron, a quota of 5, a long 8-hourly
 * cron, an outage. The bounds are the issue's, scaled to the run's length.
 */
describe('schedule simulator: streams that fail, a quota shared (e2e)', { timeout: 300_000 }, () => {
  const dbs: TestDatabase[] = [];
  afterEach(async () => {
    for (const db of dbs.splice(0)) await db.drop();
  });
  const simulate = async (name: string, days: number, warmupDays = 3): Promise<ScenarioResult> => {
    const db = await createTestDatabase('schedsim_test');
    dbs.push(db);
    const r = await simulateSchedule(name, {
      days,
      seed: 7,
      warmupDays,
      database: { url: db.url, copy: db.copy },
    });
    const m = r.metrics;
    process.stderr.write(
      `${name}, ${m.days} days: ${m.exportsUsed} of ${m.exportsMax}, quota 400s ${m.refusals}, someone else ${JSON.stringify(m.outsider)}, ` +
        `refused ${JSON.stringify(m.refusedByStream)}, steady worst lag ${m.streams.map((s) => s.steadyWorstLagH).join('/')} h, ${JSON.stringify(m.tasks)}\n`,
    );
    // What holds whatever the tenant does: never a request over the connector's own count, no
    // window bought twice, no watermark back.
    expect(m.invariants.attemptsOverOwnCount).toBe(0);
    expect(m.invariants.duplicateWindows).toEqual([]);
    expect(m.invariants.watermarkRegressions).toEqual([]);
    return r;
  };
  const lag = (r: ScenarioResult, stream: string) => r.metrics.streams.find((s) => s.stream === stream)!;

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
