import { describe, expect, it } from 'vitest';
import { e2eFixtures } from '../support/e2e-fixture.js';

const minute = 60_000;

/**
 * Issue 27, item 7: `check` passed a destination schema that `migrate` refuses, and did not
 * compare the host's clock with the vendor's, which a sync refuses to plan by. It now asks the
 * destination server to create the schema as migrate does (rolled back), and applies the sync's
 * clock test; a clock that disagrees is a failed check (exit 1), in the sync's words.
 */
describe('check (e2e)', () => {
  const start = e2eFixtures();

  it('refuses a destination schema that migrate refuses (the pg_ prefix), as migrate does', async (ctx) => {
    const f = await start({ config: { streams: { copilot_kb: {} } } });
    // The embedded PGlite runs as a superuser that may create pg_ schemas: check and migrate
    // agree there too, but there is nothing to refuse.
    if (!f.db.copy) ctx.skip('the embedded PGlite creates pg_ schemas');
    await f.ws.writeConfig({
      streams: { copilot_kb: {} },
      destination: { type: 'postgres', url: f.db.url, schema: 'pg_cxone', copy: f.db.copy },
    });
    const check = await f.cli(['check', '--json']);
    expect(check.code, check.stderr).toBe(1);
    expect(check.json).toMatchObject({ outcome: 'error', exitCode: 1, error: { type: 'StoreError' } });
    expect(check.json.error.message).toBe(
      'migrate and sync cannot create schema pg_cxone (destination.schema): unacceptable schema name "pg_cxone". The prefix "pg_" is reserved for system schemas.',
    );
    // check changed nothing, and migrate refuses the same schema.
    expect(await f.db.query(`select 1 from pg_namespace where nspname = 'pg_cxone'`)).toEqual([]);
    const migrate = await f.cli(['migrate', '--json']);
    expect(migrate.code).toBe(1);
    expect(migrate.json.error.message).toContain('unacceptable schema name "pg_cxone"');
    expect(f.sim.stats.exportRequests).toHaveLength(0);

    await f.ws.writeConfig({ streams: { copilot_kb: {} } });
    const fixed = await f.cli(['check', '--json']);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(await f.db.query(`select 1 from pg_namespace where nspname = 'cxone'`)).toEqual([]);
  });

  it("fails the clock check when the host's clock is more than 5 minutes off the vendor's, as sync would", async () => {
    const f = await start({
      sim: { faults: { dateOffsetMs: -10 * minute } },
      config: { streams: { copilot_kb: {} } },
    });
    const check = await f.cli(['check', '--json']);
    expect(check.code, check.stderr).toBe(1);
    expect(check.json).toMatchObject({ command: 'check', ok: false, exitCode: 1 });
    const clock = check.json.checks.find((c: { check: string }) => c.check === 'clock');
    expect(clock.ok).toBe(false);
    expect(clock.detail).toMatch(
      /^the local clock \(.+\) is 10 minutes ahead of the vendor's \(Date header .+\), more than 5 allowed; nothing was planned or requested\. Fix the host's time \(NTP\) and run again$/,
    );
    // The other checks still ran.
    expect(check.json.checks.map((c: { check: string; ok: boolean }) => [c.check, c.ok])).toEqual([
      ['config', true],
      ['archive', true],
      ['credentials', true],
      ['clock', false],
      ['state store', true],
      ['destination (postgres)', true],
    ]);
    const text = await f.cli(['check']);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^FAIL {2}clock: the local clock .* is 10 minutes ahead of the vendor's/m);

    // The sync refuses by the same test, in the same words.
    const sync = await f.cli(['sync', '--json']);
    expect(sync.code).toBe(1);
    const words = (m: string) => m.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, 'TIME');
    expect(words(sync.json.error.message)).toBe(words(clock.detail));
    expect(f.sim.stats.exportRequests).toHaveLength(0);

    // Within the tolerance the clock check passes.
    f.sim.setFaults({ dateOffsetMs: -4 * minute });
    const ok = await f.cli(['check', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json.checks.find((c: { check: string }) => c.check === 'clock')).toEqual({
      check: 'clock',
      ok: true,
      detail: "within 5 minutes of the vendor's",
    });
  });
});
