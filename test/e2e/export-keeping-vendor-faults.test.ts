import { describe, expect, it } from 'vitest';
import type { RunOptions } from '../support/cli-harness.js';
import { e2eFixtures, yesterdayWindowArgs } from '../support/e2e-fixture.js';
import type { SimulatorOptions } from '../support/simulator.js';
import type { TestDatabase } from '../support/test-database.js';

interface LedgerRow {
  id: string;
  status: string;
  counts_quota: boolean;
  failures: number;
  vendor_export_id: string | null;
  next_attempt_at: Date | null;
  error: string | null;
}

/**
 * Faults of the vendor's side that must not cost a second export: a gateway that answers 504
 * after passing the request on, a file the vendor keeps sending malformed, a file whose rows
 * the schema refuses. Each keeps to one export request for the window (found by an adversarial
 * review of issue 13).
 */
describe('one export per window through vendor faults (e2e)', () => {
  const start = e2eFixtures();

  async function setup(sim: SimulatorOptions, extra: Record<string, unknown> = {}) {
    const f = await start({
      sim,
      config: { streams: { copilot_aq: { timeZone: 'Europe/Berlin' } }, ...extra },
    });
    const sync = (opts: RunOptions = {}) => f.cli(['sync', '--json', ...yesterdayWindowArgs()], opts);
    return { ...f, sync };
  }

  const ledger = (d: TestDatabase) =>
    d.query<LedgerRow>(
      `select id, status, counts_quota, failures, vendor_export_id, next_attempt_at, error
         from cxone_od_sync.exports order by id`,
    );

  it('does not send the export request again after a 504 (a gateway may have passed it on): it stays counted', async () => {
    const { sync, ws, db } = await setup({ faults: { failNext: { kind: 'export', status: 504, count: 1 } } });
    const r = await sync();
    expect(r.code, r.stderr).toBe(1);
    // The simulator answered the one POST with 504; a retry would have created an export.
    expect(ws.sim.stats.exportRequests).toHaveLength(0);
    expect(await ledger(db)).toMatchObject([{ status: 'failed', counts_quota: true }]);
  });

  it('keeps an export whose rows the schema refuses (downloaded, backed off) until replay, with no second request', async () => {
    const { sync, ws, db, cli } = await setup({ faults: { malformedEvery: 10 } });
    const first = await sync();
    expect(first.code, first.stderr).toBe(1);
    const [row] = await ledger(db);
    expect(row).toMatchObject({ status: 'downloaded' });
    expect(row!.next_attempt_at).not.toBeNull();
    expect(row!.error).toMatch(/replay --export 1/);
    const second = await sync();
    expect(second.code).toBe(1);
    expect(ws.sim.stats.exportRequests).toHaveLength(1);
    // The operator raises the ratio (or fixes the schema) and replays the kept file.
    await ws.writeConfig({
      streams: { copilot_aq: { timeZone: 'Europe/Berlin', maxRejectedRatio: 0.5 } },
    });
    const replay = await cli(['replay', '--export', '1', '--json']);
    expect(replay.code, replay.stderr).toBe(0);
    expect((await ledger(db)).map((l) => l.status)).toEqual(['loaded']);
    expect(ws.sim.stats.exportRequests).toHaveLength(1);
    const [{ n }] = (await db.query<{ n: string }>(
      'select count(*) as n from cxone_od_sync.rejected_rows',
    )) as [{ n: string }];
    expect(Number(n)).toBeGreaterThan(0);
  });
});
