import { afterEach, describe, expect, it } from 'vitest';
import { type ScenarioResult, simulateSchedule } from '../../bench/schedule-sim.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The schedule simulator (`npm run simulate-schedule`) on short runs: it drives the real engine on
 * a virtual clock, so these assert only what any correct engine keeps, whatever its scheduling
 * policy. Lag and exports used are reported, not bounded (a policy comes with its own bounds).
 * A few seconds on PostgreSQL (DATABASE_URL); the embedded PGlite fallback takes ~40 s a test.
 */
describe('schedule simulator (e2e)', { timeout: 150_000 }, () => {
  const dbs: TestDatabase[] = [];
  afterEach(async () => {
    for (const db of dbs.splice(0)) await db.drop();
  });

  const simulate = async (name: string, days: number): Promise<ScenarioResult> => {
    const db = await createTestDatabase('schedsim_test');
    dbs.push(db);
    return simulateSchedule(name, { days, seed: 7, warmupDays: 1, database: { url: db.url, copy: db.copy } });
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
});
