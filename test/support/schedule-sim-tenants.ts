import { afterEach, expect } from 'vitest';
import { type ScenarioResult, simulateSchedule } from '../../bench/schedule-sim.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

/**
 * The tenants of issue 25 on short runs (test/e2e/schedule-sim-tenants-*.test.ts, two files so
 * that they run side by side): a scenario of the schedule simulator on its own database, with
 * what holds whatever the tenant does asserted (never a request over the connector's own count,
 * no window bought twice, no watermark back). Registers the `afterEach` that drops the databases.
 */
export function tenantScenarios(): {
  simulate: (name: string, days: number, warmupDays?: number) => Promise<ScenarioResult>;
  lag: (r: ScenarioResult, stream: string) => ScenarioResult['metrics']['streams'][number];
} {
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
    expect(m.invariants.attemptsOverOwnCount).toBe(0);
    expect(m.invariants.duplicateWindows).toEqual([]);
    expect(m.invariants.watermarkRegressions).toEqual([]);
    return r;
  };
  const lag = (r: ScenarioResult, stream: string) => r.metrics.streams.find((s) => s.stream === stream)!;
  return { simulate, lag };
}
