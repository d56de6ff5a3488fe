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
