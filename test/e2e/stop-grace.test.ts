import { readdir } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { copilotAq } from '../../schemas/copilot-aq.js';
import { e2eFixtures, yesterdayWindowArgs } from '../support/e2e-fixture.js';
import { journalDir, journalEntries } from '../support/state-faults.js';
import { spawnCli } from '../support/sync-child.js';
import { expectTableMatchesSimulator } from '../support/table-expectations.js';
import type { TestDatabase } from '../support/test-database.js';

/**
 * Issue 27, item B: a vendor slower to answer an export request than the SIGTERM grace. The
 * summary is printed when the grace runs out, but the process waits for the answer and records
 * the vendor's id (journal first, then the ledger) before it exits 75, so the next sync loads
 * that export instead of writing it off and buying the window again.
 */
describe('an export request answered after the stop grace (e2e)', () => {
  const start = e2eFixtures();
  const streams = { copilot_aq: {} };
  const args = () => ['sync', '--json', ...yesterdayWindowArgs()];
  const waitFor = (check: () => void) => vi.waitFor(check, { timeout: 30_000, interval: 10 });
  // CXONE_OD_SYNC_TEST_STOP_GRACE_MS: a test hook, the 30 s grace cut short.
  const shortGrace = { CXONE_OD_SYNC_TEST_STOP_GRACE_MS: '100' };

  async function ledger(db: TestDatabase) {
    return db.query<{ status: string; counts_quota: boolean; vendor_export_id: string | null }>(
      `select status, counts_quota, vendor_export_id from cxone_od_sync.exports order by id`,
    );
  }

  it('prints the summary when the grace ends, records the answer that comes after it, exits 75, and the next sync loads it without a second request', async () => {
    const f = await start({ sim: { faults: { holdExportRequests: true } }, config: { streams } });
    const { child, out, exited } = spawnCli(f, args(), shortGrace);
    await waitFor(() => expect(f.sim.stats.heldExportRequests).toBe(1));
    child.kill('SIGTERM');
    // The grace runs out with the request still held: the summary is on stdout, the process alive.
    await waitFor(() => expect(out.stdout).toContain('"outcome":"deferred"'));
    const summary = JSON.parse(out.stdout);
    expect(summary).toMatchObject({ command: 'sync', outcome: 'deferred', exitCode: 75 });
    expect(summary.note).toMatch(/interrupted by SIGTERM; work in flight did not finish within/);
    expect(summary.note).toMatch(/Waiting for the API's answer to the export request in flight/);
    expect(out.ended).toBe(false);
    expect(f.sim.stats.heldExportRequests).toBe(1);

    expect(f.sim.releaseHeld()).toBe(1);
    const { code, signal } = await exited;
    expect({ code, signal }, out.stderr).toEqual({ code: 75, signal: null });
    // One document on stdout: the run's own summary is not printed after the grace's.
    expect(out.stdout.trim().split('\n')).toHaveLength(1);
    const vendorId = f.sim.stats.exportRequests[0]!.id;
    expect(out.stderr).toContain('export answer arrived after the stop grace: kept in the local journal');
    // Journal first (a local fsync), then the ledger.
    const { entries } = await journalEntries(f);
    expect(entries).toEqual([expect.objectContaining({ vendorExportId: vendorId, stream: 'copilot_aq' })]);
    expect(await ledger(f.db)).toEqual([
      { status: 'submitted', counts_quota: true, vendor_export_id: vendorId },
    ]);

    const next = await f.cli(args());
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).not.toContain('interrupted before the export request was confirmed');
    expect(f.sim.stats.exportRequests).toHaveLength(1);
    expect(await ledger(f.db)).toEqual([
      { status: 'loaded', counts_quota: true, vendor_export_id: vendorId },
    ]);
    expect(await readdir(journalDir(f))).toEqual([]);
    await expectTableMatchesSimulator(f.db, copilotAq);
  });

  it('still exits at once on a second SIGTERM while it waits for the answer', async () => {
    const f = await start({ sim: { faults: { holdExportRequests: true } }, config: { streams } });
    const { child, out, exited } = spawnCli(f, args(), shortGrace);
    await waitFor(() => expect(f.sim.stats.heldExportRequests).toBe(1));
    child.kill('SIGTERM');
    await waitFor(() => expect(out.stdout).toContain('"outcome":"deferred"'));
    child.kill('SIGTERM');
    const { code, signal } = await exited;
    expect({ code, signal }, out.stderr).toEqual({ code: 143, signal: null });
    expect(out.stderr).toContain('second SIGTERM: exiting now');
  });
});
