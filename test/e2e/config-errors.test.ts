import { describe, expect, it } from 'vitest';
import { e2eFixtures, yesterdayWindowArgs } from '../support/e2e-fixture.js';

// Issue 27: what a new user gets wrong in the config and on the command line, tried with the
// built CLI against the simulator over HTTP and a real PostgreSQL: one clear error naming the
// setting (exit 2), never a secret in it, and a refusal under the 4-month rule that names the
// setting that helps.

const day = 86_400_000;

describe('config errors (e2e)', () => {
  const startE2e = e2eFixtures();

  it('names a secret put in the wrong setting without printing it, on stderr and in --json', async () => {
    const f = await startE2e({
      config: {
        streams: { copilot_aq: { lookback: '${SIM_CLIENT_SECRET}', settle: '${SIM_ACCESS_SECRET}' } },
      },
    });
    const secrets = [f.sim.credentials.clientSecret, f.sim.credentials.accessSecret];
    for (const args of [['check', '--json'], ['sync', '--json'], ['check']]) {
      const r = await f.cli(args);
      expect(r.code, r.stderr).toBe(2);
      const out = `${r.stdout}\n${r.stderr}`;
      for (const s of secrets) expect(out, args.join(' ')).not.toContain(s);
      // Human or JSON log lines (where the quotes are escaped): the setting and the reference.
      expect(r.stderr).toMatch(
        /streams\.copilot_aq\.lookback: not a duration: \\?"\$\{SIM_CLIENT_SECRET\}\\?"/,
      );
      if (args.includes('--json')) {
        expect(r.json).toMatchObject({ outcome: 'error', exitCode: 2, error: { type: 'ConfigError' } });
        expect(r.json.error.message).toContain(
          'streams.copilot_aq.lookback: not a duration: "${SIM_CLIENT_SECRET}"',
        );
        expect(r.json.error.message).toContain(
          'streams.copilot_aq.settle: not a duration: "${SIM_ACCESS_SECRET}"',
        );
      }
    }
    expect(f.sim.stats.exportRequests).toHaveLength(0);
  });

  it('refuses horizonMarginDays 0, saying why', async () => {
    const f = await startE2e({ config: { account: { horizonMarginDays: 0 } } });
    const r = await f.cli(['check', '--json']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.json.error.message).toMatch(
      /account\.horizonMarginDays: must be at least 1 \(day\): the API counts its 4 months/,
    );
  });

  it('refuses a stream start in the future, naming the setting', async () => {
    const start = new Date(Date.now() + 400 * day).toISOString().slice(0, 10);
    const f = await startE2e({ config: { streams: { copilot_kb: { start } } } });
    for (const command of ['check', 'plan', 'sync']) {
      const r = await f.cli([command, '--json']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.json.error.message).toContain(
        `streams.copilot_kb.start: ${start}T00:00:00.000Z is in the future`,
      );
    }
    expect(f.sim.stats.exportRequests).toHaveLength(0);
  });

  it('refuses --start without --end (and --end without --start) in plan and sync alike', async () => {
    const f = await startE2e({ config: { streams: { copilot_kb: {} } } });
    for (const command of ['plan', 'sync'])
      for (const half of [
        ['--start', '2026-11-01T00:00:00Z'],
        ['--end', '2026-11-02T00:00:00Z'],
      ]) {
        const r = await f.cli([command, '--json', ...half]);
        expect(r.code, `${command} ${half[0]}: ${r.stderr}`).toBe(2);
        expect(r.json.error.message).toBe('--start and --end go together');
      }
    expect(f.sim.stats.exportRequests).toHaveLength(0);
  });

  it('refuses a malformed state.url at once, naming it without its password', async () => {
    const f = await startE2e({
      config: { state: { url: 'postgres//cxone:pg-pass-27@state.example/state' } },
    });
    const r = await f.cli(['check', '--json']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.json.error.message).toContain('state.url: not a PostgreSQL URL');
    expect(`${r.stdout}${r.stderr}`).not.toContain('pg-pass-27');
  });

  it('refuses a date the calendar does not have, in a flag and in the config', async () => {
    const f = await startE2e({ config: { streams: { copilot_kb: {} } } });
    const flag = await f.cli(['sync', '--json', '--start', '2026-02-30', '--end', '2026-03-01']);
    expect(flag.code, flag.stderr).toBe(2);
    expect(flag.json.error.message).toContain(
      '--start "2026-02-30" is not a date: February 2026 has days 1 to 28, not 30',
    );
    const to = await f.cli(['reset', '--stream', 'copilot_kb', '--to', '2026-04-31', '--yes', '--json']);
    expect(to.code, to.stderr).toBe(2);
    expect(to.json.error.message).toContain(
      '--to "2026-04-31" is not a date: April 2026 has days 1 to 30, not 31',
    );

    await f.ws.writeConfig({ streams: { copilot_kb: { start: '2026-02-30' } } });
    const config = await f.cli(['plan', '--json']);
    expect(config.code, config.stderr).toBe(2);
    expect(config.json.error.message).toContain(
      'streams.copilot_kb.start: not a date: "2026-02-30": February 2026',
    );
    expect(f.sim.stats.exportRequests).toHaveLength(0);
  });

  it('advises horizonMarginDays, not historyAuthorized, when the API counts the 4 months differently', async () => {
    // A vendor whose 4 months end 2 days later than the connector's (its Date header still agrees).
    const f = await startE2e({
      sim: { now: () => Date.now() + 2 * day, faults: { dateOffsetMs: -2 * day } },
      config: { streams: { copilot_kb: {} } },
    });
    const r = await f.cli(['sync', '--json']);
    expect(r.code, r.stderr).toBe(1);
    expect(f.sim.stats.exportRequests).toHaveLength(0);
    expect(f.sim.stats.rejectedExportRequests).toMatchObject([{ status: 400 }]);
    const error: string = r.json.streams[0].error;
    expect(error).toContain('Export date range cannot be more than 4 months ago without authorization');
    expect(error).toMatch(
      /no earlier than the connector's horizon .+ raise account\.horizonMarginDays to 2 or more/,
    );
    expect(error).not.toContain('historyAuthorized');
    // An explicit window inside the horizon is not refused.
    const window = await f.cli(['sync', '--json', ...yesterdayWindowArgs()]);
    expect(window.code, window.stderr).toBe(0);
  });
});
