import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-harness.js';

describe('demo (e2e)', () => {
  it('runs a whole sync with no database server and no credentials, and prints the loaded row counts', async () => {
    const env: NodeJS.ProcessEnv = { DATABASE_URL: '', TEST_DATABASE_URL: '', CXONE_CLIENT_SECRET: '' };
    const r = await runCli(['demo', '--json', '--days', '2'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.outcome).toBe('done');
    expect(r.json.tables.map((t: { table: string }) => t.table)).toEqual([
      'cxone.copilot_kb',
      'cxone.copilot_as',
      'cxone.copilot_aq',
      'cxone.autopilot_gr',
    ]);
    for (const t of r.json.tables) expect(t.rows).toBeGreaterThan(100);
    expect(r.json.sample.length).toBeGreaterThan(0);

    const human = await runCli(['demo', '--days', '1'], { env });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/cxone\.copilot_kb\s+\d+/);
  });
});
