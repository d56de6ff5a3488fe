import { describe, expect, it, vi } from 'vitest';
import { copilotAq } from '../../schemas/copilot-aq.js';
import { copilotKb } from '../../schemas/copilot-kb.js';
import { e2eFixtures, yesterdayWindowArgs } from '../support/e2e-fixture.js';
import { journalEntries, stateStoreBehindProxy } from '../support/state-faults.js';
import { spawnCli } from '../support/sync-child.js';
import { expectTableMatchesSimulator } from '../support/table-expectations.js';
import type { TestDatabase } from '../support/test-database.js';

/**
 * Issue 27, item A: a state store lost in the middle of a sync ends it with a `StoreError`
 * (retryable, exit 1) and a JSON summary that still says what the run did, and loses no export
 * the vendor accepted: the next sync, the database back, loads everything and buys nothing twice.
 */
describe('the state store lost mid-sync (e2e)', () => {
  const start = e2eFixtures();
  const streams = { copilot_aq: {}, copilot_kb: {} };
  const waitFor = (check: () => void) => vi.waitFor(check, { timeout: 30_000, interval: 10 });

  async function ledger(db: TestDatabase) {
    return db.query<{ stream: string; status: string; vendor_export_id: string | null }>(
      `select stream, status, vendor_export_id from cxone_od_sync.exports order by stream`,
    );
  }

  it('ends with a StoreError summary keeping the streams so far, journals the accepted export, and the next sync loads both without a second request', async () => {
    const f = await start({ sim: { faults: { holdExportRequests: true } }, config: { streams } });
    const { proxy, url: proxied } = await stateStoreBehindProxy(f, { streams });
    const args = ['sync', '--json', ...yesterdayWindowArgs()];

    const { out, exited } = spawnCli(f, args, { CXONE_OD_SYNC_LEDGER_RETRY_BASE_MS: '1' });
    // The first stream's request (copilot_aq, first by name) is answered and recorded; the
    // second's answer is held, and the database is cut away just before it is let through.
    await waitFor(() => expect(f.sim.stats.heldExportRequests).toBe(1));
    expect(f.sim.releaseHeld()).toBe(1);
    await waitFor(() => expect(f.sim.stats.exportRequests).toHaveLength(2));
    await waitFor(() => expect(f.sim.stats.heldExportRequests).toBe(1));
    proxy.cut();
    f.sim.setFaults({ holdExportRequests: false }); // releases the held answer
    const { code } = await exited;
    const [aqId, kbId] = f.sim.stats.exportRequests.map((e) => e.id);
    expect(f.sim.stats.exportRequests.map((e) => e.stream)).toEqual(['copilot_aq', 'copilot_kb']);

    // A retryable failure (exit 1, as the README's exit codes give a database that is down), and
    // one summary on stdout: the error, and the streams as far as they got.
    expect(code, out.stderr).toBe(1);
    const lines = out.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]!);
    expect(summary).toMatchObject({
      command: 'sync',
      outcome: 'error',
      exitCode: 1,
      error: { type: 'StoreError', retryable: true },
      exportsRequested: 1,
      rowsLoaded: 0,
      runId: expect.any(String),
    });
    expect(summary.error.message).toMatch(
      /state store cannot be reached or dropped the connection \(state\.url/,
    );
    expect(summary.error.message).not.toContain(proxied);
    const byStream = Object.fromEntries((summary.streams as { stream: string }[]).map((s) => [s.stream, s]));
    expect(byStream.copilot_aq).toMatchObject({
      state: 'failed',
      exports: [{ exportId: aqId, status: 'submitted' }],
    });
    expect(byStream.copilot_kb).toMatchObject({
      state: 'failed',
      error: expect.stringMatching(new RegExp(`export ${kbId} was accepted by the API .*kept in .*journal`)),
      exports: [{ exportId: null, status: 'reserved' }],
    });

    // The accepted export whose id the ledger could not take is in the local journal.
    const { entries } = await journalEntries(f);
    expect(entries).toEqual([expect.objectContaining({ vendorExportId: kbId, stream: 'copilot_kb' })]);

    // The database back: the next sync applies the journal, resumes both, requests nothing.
    proxy.restore();
    const next = await f.cli(args);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toContain('export recorded from the journal');
    expect(f.sim.stats.exportRequests).toHaveLength(2);
    expect(await ledger(f.db)).toEqual([
      { stream: 'copilot_aq', status: 'loaded', vendor_export_id: aqId },
      { stream: 'copilot_kb', status: 'loaded', vendor_export_id: kbId },
    ]);
    await expectTableMatchesSimulator(f.db, copilotAq);
    await expectTableMatchesSimulator(f.db, copilotKb);
  });
});
