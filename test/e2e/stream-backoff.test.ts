import { describe, expect, it } from 'vitest';
import { e2eFixtures } from '../support/e2e-fixture.js';
import { Outsider } from '../support/simulator.js';

/**
 * Issue 25 through the CLI: a stream the API refuses, or whose exports fail at the vendor, waits
 * on its own while the other streams go on; a request the API did not take counts nothing; a
 * quota refusal teaches the connector what someone else uses; `unblock` is the way out.
 */
describe('failure isolation per stream and a shared quota (e2e)', () => {
  const startE2e = e2eFixtures();
  const start = () => {
    const s = new Date(Date.now() - 2 * 86_400_000);
    s.setUTCHours(0, 0, 0, 0);
    return s.toISOString();
  };
  const gr = 'AutopilotKnowledge/GRTable';
  type Stream = {
    stream: string;
    state: string;
    error?: string;
    note?: string;
    backoff?: { reason: string; until: string };
  };
  const streamOf = (json: { streams: Stream[] }, name: string) =>
    json.streams.find((s) => s.stream === name)!;
  const hoursFromNow = (iso: string) => (Date.parse(iso) - Date.now()) / 3_600_000;

  it('a table the tenant does not expose: told in plain words, asked once a day, the other stream goes on; unblock and a path change ask again', async () => {
    const { db, ws, cli } = await startE2e({
      sim: { faults: { quota: 10, refuseTables: { [gr]: { status: 403 } } } },
      config: {
        account: { exportsPer24h: 10 },
        streams: { copilot_kb: { start: start() }, autopilot_gr: { start: start() } },
      },
    });
    const first = await cli(['sync', '--json']);
    expect(first.code, first.stderr).toBe(1);
    expect(streamOf(first.json, 'copilot_kb').state).toBe('done');
    const refused = streamOf(first.json, 'autopilot_gr');
    expect(refused.state).toBe('failed');
    expect(refused.error).toMatch(/does not expose AutopilotKnowledge\/GRTable to this tenant/);
    expect(refused.error).toMatch(/enabled: false/);
    expect(refused.backoff?.reason).toBe('not_exposed');
    expect(hoursFromNow(refused.backoff!.until)).toBeGreaterThan(23.9);
    expect(ws.sim.stats.rejectedExportRequests.map((r) => r.status)).toEqual([403]);
    const ledger = await db.query<{ status: string; counts_quota: boolean }>(
      `select status, counts_quota from cxone_od_sync.exports where stream = 'autopilot_gr'`,
    );
    expect(ledger).toEqual([{ status: 'failed', counts_quota: false }]);

    // The next run does not ask, and does not fail for it.
    const second = await cli(['sync', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(streamOf(second.json, 'autopilot_gr').state).toBe('backing_off');
    expect(ws.sim.stats.rejectedExportRequests).toHaveLength(1);
    const status = await cli(['status', '--json']);
    const shown = status.json.streams.find((s: { stream: string }) => s.stream === 'autopilot_gr');
    expect(shown.backoff).toMatchObject({ reason: 'not_exposed', failures: 1 });
    expect(shown.nextDueAt).toBe(shown.backoff.until);
    const plan = await cli(['plan', '--json']);
    const planned = plan.json.streams.find((s: { stream: string }) => s.stream === 'autopilot_gr');
    expect(planned.windows[0].when).toMatch(/^backed off until .* \(not_exposed\)$/);
    const view = await db.query<{ backoff_reason: string; backoff_failures: number }>(
      `select backoff_reason, backoff_failures from cxone_od_sync.freshness where stream = 'autopilot_gr'`,
    );
    expect(view).toEqual([{ backoff_reason: 'not_exposed', backoff_failures: 1 }]);

    // The way out: unblock asks at the next sync.
    const unblock = await cli(['unblock', '--stream', 'autopilot_gr', '--json']);
    expect(unblock.code, unblock.stderr).toBe(0);
    expect(unblock.json.streams).toEqual(['autopilot_gr']);
    const third = await cli(['sync', '--json']);
    expect(third.code).toBe(1);
    expect(ws.sim.stats.rejectedExportRequests).toHaveLength(2);

    // A config that changes the request (the tenant's other name for the table) is tried at once.
    await ws.writeConfig({
      account: { exportsPer24h: 10 },
      streams: {
        copilot_kb: { start: start() },
        autopilot_gr: { start: start(), path: 'autopilot/GRTable' },
      },
    });
    const fixed = await cli(['sync', '--json']);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(streamOf(fixed.json, 'autopilot_gr').state).toBe('done');
    expect(ws.sim.stats.exportRequests.filter((r) => r.path === 'autopilot/GRTable')).toHaveLength(1);
    const cleared = await db.query<{ n: string }>(`select count(*) as n from cxone_od_sync.stream_backoff`);
    expect(cleared[0]!.n).toBe('0');
  });

  it('a request the API did not take (503 after every retry) counts no quota, and the run stops asking', async () => {
    const { db, ws, cli } = await startE2e({
      sim: { faults: { quota: 10, failNext: { kind: 'export', status: 503, count: 1000 } } },
      config: {
        account: { exportsPer24h: 3, httpMaxAttempts: 2 },
        streams: { copilot_kb: { start: start() }, copilot_as: { start: start() } },
      },
    });
    const r = await cli(['sync', '--json']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.json.quota.used).toBe(0);
    const rows = await db.query<{ stream: string; counts_quota: boolean; error: string }>(
      `select stream, counts_quota, error from cxone_od_sync.exports`,
    );
    expect(rows).toEqual([
      {
        stream: expect.any(String),
        counts_quota: false,
        error: expect.stringMatching(/503.*no quota is counted/),
      },
    ]);
    expect(ws.sim.stats.exportRequests).toHaveLength(0);
  });

  it('a quota refusal teaches what someone else uses; unblock --quota forgets it', async () => {
    const { ws, cli } = await startE2e({
      sim: { faults: { quota: 3 } },
      config: {
        account: { exportsPer24h: 3 },
        streams: {
          copilot_kb: { start: start() },
          copilot_as: { start: start() },
          copilot_aq: { start: start() },
        },
      },
    });
    // A person exports twice from the dashboard first.
    const person = new Outsider(ws.sim);
    expect(await person.export()).toBe(true);
    expect(await person.export()).toBe(true);
    const r = await cli(['sync', '--json']);
    expect(r.code, r.stderr).toBe(75);
    expect(r.json.exportsRequested).toBe(1);
    expect(r.json.quota).toMatchObject({ limit: 1, used: 1, perDay: 3, reservedForOthers: 2 });
    expect(r.json.quota.othersSeen.slots).toBe(2);
    expect(hoursFromNow(r.json.quota.othersSeen.until)).toBeGreaterThan(9 * 24);
    const deferred = r.json.streams.find((s: Stream) => s.state === 'deferred');
    expect(deferred.note).toMatch(/someone else .* holds 2 of the 3 exports per 24 h/);
    expect(deferred.note).toMatch(/reserveForOthers/);
    // Asked again soon (a slot someone else holds can free at any moment), not after a day.
    expect(hoursFromNow(r.json.quota.blockedUntil)).toBeLessThan(0.3);

    const status = await cli(['status', '--json']);
    expect(status.json.quota).toMatchObject({ limit: 1, reservedForOthers: 2 });
    expect(status.stdout).toContain('"othersSeen":{"slots":2');
    const forgot = await cli(['unblock', '--quota', '--json']);
    expect(forgot.json.quota).toBe('forgotten');
    const after = await cli(['status', '--json']);
    expect(after.json.quota).toMatchObject({
      limit: 3,
      reservedForOthers: 0,
      othersSeen: null,
      blockedUntil: null,
    });
  });

  it('reserveForOthers leaves exports free from the first sync on, and must leave one to the connector', async () => {
    const { ws, cli } = await startE2e({
      sim: { faults: { quota: 3 } },
      config: {
        account: { exportsPer24h: 3, reserveForOthers: 1 },
        streams: {
          copilot_kb: { start: start() },
          copilot_as: { start: start() },
          copilot_aq: { start: start() },
        },
      },
    });
    const r = await cli(['sync', '--json']);
    expect(r.code, r.stderr).toBe(75);
    expect(r.json.exportsRequested).toBe(2);
    expect(r.json.quota).toMatchObject({ limit: 2, perDay: 3, reservedForOthers: 1 });
    expect(await new Outsider(ws.sim).export()).toBe(true);

    await ws.writeConfig({ account: { exportsPer24h: 3, reserveForOthers: 3 } });
    const bad = await cli(['check']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/account\.reserveForOthers: must be less than exportsPer24h/);
  });
});
