import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-harness.js';

describe('demo (e2e)', () => {
  it('runs a whole sync with no database server and no credentials, at the real quota of 3: three streams loaded, the fourth deferred to the next slot, exit 0', async () => {
    const env: NodeJS.ProcessEnv = { DATABASE_URL: '', TEST_DATABASE_URL: '', CXONE_CLIENT_SECRET: '' };
    const r = await runCli(['demo', '--json', '--days', '2'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.outcome).toBe('done');
    expect(r.json.exitCode).toBe(0);
    expect(r.json.quota.limit).toBe(3);
    expect(r.json.quota.used).toBe(3);
    expect(r.json.sync.exportsRequested).toBe(3);
    expect(r.json.sync.exitCode).toBe(75);
    expect(r.json.tables.map((t: { table: string }) => t.table)).toEqual([
      'cxone.copilot_kb',
      'cxone.copilot_as',
      'cxone.copilot_aq',
      'cxone.autopilot_gr',
    ]);
    expect(r.json.loaded).toHaveLength(3);
    expect(r.json.deferred).toHaveLength(1);
    const [deferred] = r.json.deferred;
    expect(r.json.loaded).not.toContain(deferred.stream);
    expect(Date.parse(deferred.nextSlotAt)).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    expect(deferred.nextSlotAt).toBe(r.json.quota.nextSlotAt);
    for (const t of r.json.tables) {
      if (t.table === `cxone.${deferred.stream}`) {
        expect(t.rows).toBe(0);
        expect(t.state).toBe('deferred');
      } else {
        expect(t.rows).toBeGreaterThan(100);
        expect(t.state).toBe('done');
      }
    }
    expect(r.json.explanation).toMatch(/3 exports per rolling 24 hours/);
    expect(r.json.sample.length).toBeGreaterThan(0);

    const human = await runCli(['demo', '--days', '1'], { env });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/3 of 4 streams loaded/);
    expect(human.stdout).toMatch(/the vendor allows 3 exports per rolling 24 hours/);
    expect(human.stdout).toMatch(/deferred: \w+, next slot at \d{4}-\d\d-\d\dT/);
    expect(human.stdout).toMatch(/the demo itself succeeded \(exit 0\)/);
    expect(human.stdout.match(/cxone\.\w+\s+\d+\s+done/g)).toHaveLength(3);
    expect(human.stdout).toMatch(/cxone\.\w+\s+0\s+deferred/);
  });
});
