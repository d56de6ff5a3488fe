import { readdir } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { copilotAq } from '../../schemas/copilot-aq.js';
import { type E2eFixture, e2eFixtures, yesterdayWindowArgs } from '../support/e2e-fixture.js';
import type { SimulatorOptions } from '../support/simulator.js';
import { journalDir, journalEntries, stateStoreBehindProxy } from '../support/state-faults.js';
import { spawnCli } from '../support/sync-child.js';
import { expectTableMatchesSimulator } from '../support/table-expectations.js';
import { closedPort } from '../support/tcp-proxy.js';
import type { TestDatabase } from '../support/test-database.js';

/**
 * Issue 13, defects 1 and 3: quota is spent only on a request that may have reached the API, and
 * the vendor's export id, once it arrives, is never lost (SIGTERM, a state store that drops its
 * connections at that moment).
 */
describe('quota spend and the vendor id (e2e)', () => {
  const start = e2eFixtures();

  const windowArgs = yesterdayWindowArgs;
  const streams = { copilot_aq: { timeZone: 'Europe/Berlin' } };
  const syncArgs = () => ['sync', '--json', ...windowArgs()];

  async function ledger(db: TestDatabase) {
    return db.query<{ status: string; counts_quota: boolean; vendor_export_id: string | null }>(
      `select status, counts_quota, vendor_export_id from cxone_od_sync.exports order by id`,
    );
  }

  /** The built CLI as a child process the test can signal, with its output so far. */
  const spawnSync = (f: E2eFixture, env: NodeJS.ProcessEnv = {}) => spawnCli(f, syncArgs(), env);

  const waitFor = (check: () => void) => vi.waitFor(check, { timeout: 30_000, interval: 10 });

  const tokenOutages: { name: string; setup: () => Promise<{ sim?: SimulatorOptions; authUrl?: string }> }[] =
    [
      {
        name: 'refuses connections',
        setup: async () => ({ authUrl: `http://127.0.0.1:${await closedPort()}/auth/token` }),
      },
      {
        name: 'answers 503 past every retry',
        setup: async () => ({ sim: { faults: { failNext: [{ kind: 'token', status: 503, count: 1000 }] } } }),
      },
    ];

  it.each(tokenOutages)(
    'spends no quota while the token endpoint $name, then requests and loads once it is back',
    async (c) => {
      const outage = await c.setup();
      const account = { httpMaxAttempts: 2, exportsPer24h: 3 };
      const f = await start({
        ...(outage.sim ? { sim: outage.sim } : {}),
        config: { streams, account: { ...account, ...(outage.authUrl ? { authUrl: outage.authUrl } : {}) } },
      });
      for (let run = 0; run < 3; run++) {
        const r = await f.cli(syncArgs());
        expect(r.json.quota.used, r.stderr).toBe(0);
        expect(r.code, r.stderr).toBe(1);
        expect(r.json.outcome).toBe('failed');
        expect(r.json.streams[0].error).toMatch(/no quota spent/);
      }
      expect(f.ws.sim.stats.exportRequests).toHaveLength(0);
      if (outage.sim) expect(f.ws.sim.stats.tokenRequests).toBeGreaterThanOrEqual(3);
      expect((await ledger(f.db)).filter((r) => r.counts_quota)).toEqual([]);
      const status = await f.cli(['status', '--json']);
      expect(status.code, status.stderr).toBe(0);
      expect(status.json.quota).toMatchObject({ limit: 3, used: 0 });

      // The login comes back.
      if (outage.sim) f.ws.sim.setFaults({ failNext: [] });
      else await f.ws.writeConfig({ streams, account });
      const healed = await f.cli(syncArgs());
      expect(healed.code, healed.stderr).toBe(0);
      expect(f.ws.sim.stats.exportRequests).toHaveLength(1);
      expect(await ledger(f.db)).toEqual([
        { status: 'loaded', counts_quota: true, vendor_export_id: f.ws.sim.stats.exportRequests[0]!.id },
      ]);
      await expectTableMatchesSimulator(f.db, copilotAq);
    },
  );

  it('counts no quota for an export request whose connection is refused, and says so in the ledger row', async () => {
    const account = { httpMaxAttempts: 2 };
    const f = await start({
      config: { streams, account: { ...account, apiBase: `http://127.0.0.1:${await closedPort()}` } },
    });
    const r = await f.cli(syncArgs());
    expect(r.json.quota.used, r.stderr).toBe(0);
    expect(r.code).toBe(1);
    const rows = await f.db.query<{
      status: string;
      counts_quota: boolean;
      retryable: boolean;
      error: string;
    }>(`select status, counts_quota, retryable, error from cxone_od_sync.exports`);
    expect(rows).toEqual([
      {
        status: 'failed',
        counts_quota: false,
        retryable: true,
        error: expect.stringMatching(/ECONNREFUSED.*not sent/),
      },
    ]);

    await f.ws.writeConfig({ streams, account });
    const healed = await f.cli(syncArgs());
    expect(healed.code, healed.stderr).toBe(0);
    expect(f.ws.sim.stats.exportRequests).toHaveLength(1);
    await expectTableMatchesSimulator(f.db, copilotAq);
  });

  it('on SIGTERM while an export is processing at the API, stops polling at once and exits 75 with the whole summary', async () => {
    // The export stays processing for longer than the test; the poll would otherwise run on.
    const f = await start({ sim: { faults: { processingMs: 600_000 } }, config: { streams } });
    const { child, out, exited } = spawnSync(f);
    await waitFor(() => expect(out.stderr).toContain('export processing at the API; polling'));
    child.kill('SIGTERM');
    const { code, signal } = await exited;
    expect({ code, signal }, out.stderr).toEqual({ code: 75, signal: null });
    const summary = JSON.parse(out.stdout);
    // The run's own summary (not the grace timeout's): the stream, deferred, its export in flight.
    expect(summary).toMatchObject({ outcome: 'deferred', exitCode: 75, exportsRequested: 1 });
    expect(summary.streams[0]).toMatchObject({ stream: 'copilot_aq', state: 'deferred' });
    expect(out.stderr).not.toContain('did not finish within');
    expect(await ledger(f.db)).toMatchObject([{ status: 'submitted', counts_quota: true }]);
  });

  it('on SIGTERM during the export request, records the answer, exits 75, and the next sync loads it without a second request', async () => {
    const f = await start({ sim: { faults: { holdExportRequests: true } }, config: { streams } });
    const { child, out, exited } = spawnSync(f);
    await waitFor(() => expect(f.ws.sim.stats.heldExportRequests).toBe(1));
    child.kill('SIGTERM');
    await waitFor(() => expect(out.stderr.includes('SIGTERM received') || out.ended, out.stderr).toBe(true));
    f.ws.sim.setFaults({ holdExportRequests: false }); // releases the held answer

    const { code, signal } = await exited;
    expect({ code, signal }, out.stderr).toEqual({ code: 75, signal: null });
    const summary = JSON.parse(out.stdout);
    expect(summary).toMatchObject({ outcome: 'deferred', exitCode: 75, exportsRequested: 1 });
    expect(summary.note).toMatch(/interrupted by SIGTERM/);
    const vendorId = f.ws.sim.stats.exportRequests[0]!.id;
    expect(f.ws.sim.stats.exportRequests).toHaveLength(1);
    expect(await ledger(f.db)).toEqual([
      { status: 'submitted', counts_quota: true, vendor_export_id: vendorId },
    ]);

    const next = await f.cli(syncArgs());
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toContain('resuming unfinished export');
    expect(f.ws.sim.stats.exportRequests).toHaveLength(1);
    expect(await ledger(f.db)).toEqual([
      { status: 'loaded', counts_quota: true, vendor_export_id: vendorId },
    ]);
    await expectTableMatchesSimulator(f.db, copilotAq);
  });

  it('keeps the vendor id in a local journal when the state store drops its connections as the answer arrives, and the next sync loads that export', async () => {
    const f = await start({ sim: { faults: { holdExportRequests: true } }, config: { streams } });
    const { proxy } = await stateStoreBehindProxy(f, { streams });

    const { out, exited } = spawnSync(f, { CXONE_OD_SYNC_LEDGER_RETRY_BASE_MS: '1' });
    await waitFor(() => expect(f.ws.sim.stats.heldExportRequests).toBe(1));
    proxy.cut();
    f.ws.sim.setFaults({ holdExportRequests: false }); // releases the held answer
    const { code } = await exited;
    expect(code, out.stderr).not.toBe(0);
    const vendorId = f.ws.sim.stats.exportRequests[0]!.id;
    expect(out.stderr).toMatch(
      new RegExp(`"msg":"export accepted by the API".*"vendorExportId":"${vendorId}"`),
    );
    expect(out.stderr).toContain('the ledger did not take the export; retrying');
    expect(out.stderr).toMatch(/kept in the local journal.*/);
    const { files, entries } = await journalEntries(f);
    expect(files.slice(1)).toEqual([]);
    expect(entries).toEqual([expect.objectContaining({ vendorExportId: vendorId, stream: 'copilot_aq' })]);
    expect(await ledger(f.db)).toEqual([{ status: 'reserved', counts_quota: true, vendor_export_id: null }]);

    proxy.restore();
    const next = await f.cli(syncArgs());
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toContain('export recorded from the journal');
    expect(f.ws.sim.stats.exportRequests).toHaveLength(1);
    expect(await ledger(f.db)).toEqual([
      { status: 'loaded', counts_quota: true, vendor_export_id: vendorId },
    ]);
    // Applied and removed: nothing is left to apply.
    expect(await readdir(journalDir(f))).toEqual([]);
    await expectTableMatchesSimulator(f.db, copilotAq);
  });
});
