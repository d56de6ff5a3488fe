import { describe, expect, it } from 'vitest';
import { copilotAq } from '../../schemas/copilot-aq.js';
import { e2eFixtures } from '../support/e2e-fixture.js';
import { startFakeBigQuery } from '../support/fake-bigquery.js';
import { expectRowsMatchSimulator } from '../support/table-expectations.js';

/**
 * The built CLI syncing into BigQuery (the local REST stand-in) with its state in PostgreSQL,
 * authenticated the way a GKE or Compute Engine job is (application default credentials from the
 * metadata server). A failed replace leaves the watermark where it was; the rerun loads the
 * export it already has, without asking NICE for another.
 */
describe('sync into BigQuery (e2e, local REST stand-in)', () => {
  const startE2e = e2eFixtures();

  it('checks, refuses a failed replace without moving the watermark, then loads once on the rerun', async () => {
    // The fixture's database holds the state; the tables go to the BigQuery stand-in.
    const f = await startE2e();
    const { db: state, ws, cli } = f;
    const fake = await startFakeBigQuery('acme-analytics');
    f.defer(() => fake.close());
    const destination = {
      type: 'bigquery',
      projectId: fake.projectId,
      dataset: 'cxone',
      location: 'EU',
      apiEndpoint: fake.url,
    };
    await ws.writeConfig({
      state: { url: state.url },
      destination: { ...destination, keyFile: '/nonexistent/sa.json' },
      streams: { copilot_aq: {} },
    });
    const badKey = await cli(['check']);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toContain('destination.keyFile: no such file: /nonexistent/sa.json');
    const end = new Date(Date.now() - 86_400_000);
    end.setUTCHours(0, 0, 0, 0);
    const start = new Date(end.getTime() - 86_400_000);
    // The window begins at the stream's start, so that its load sets the first watermark.
    await ws.writeConfig({
      state: { url: state.url },
      destination,
      streams: { copilot_aq: { start: start.toISOString() } },
    });
    const env = {
      GCE_METADATA_HOST: fake.metadataHost,
      METADATA_SERVER_DETECTION: 'assume-present',
      GOOGLE_APPLICATION_CREDENTIALS: '',
      HOME: ws.dir,
    };
    const sync = ['sync', '--json', '--start', start.toISOString(), '--end', end.toISOString()];

    const check = await cli(['check', '--json'], { env });
    expect(check.code, check.stderr).toBe(0);
    expect(
      check.json.checks.find((c: { check: string }) => c.check === 'destination (bigquery)').detail,
    ).toMatch(/dataset acme-analytics.cxone does not exist yet/);
    expect(ws.sim.stats.exportRequests).toHaveLength(0);
    expect(fake.issuedTokens.length).toBeGreaterThan(0);

    fake.faults.failStatement = /^INSERT/;
    const failed = await cli(sync, { env });
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stderr).toMatch(/replace transaction .* failed/);
    expect(fake.rows('cxone', copilotAq.name)).toHaveLength(0);
    expect(await state.query(`select * from cxone_od_sync.watermarks`)).toEqual([]);
    const [ledger] = await state.query<{ status: string }>(`select status from cxone_od_sync.exports`);
    expect(ledger?.status).not.toBe('loaded');

    fake.faults.failStatement = undefined;
    const ok = await cli(sync, { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ws.sim.stats.exportRequests).toHaveLength(1);
    const windows = await state.query<{ window_start: Date; window_end: Date; status: string; rows: string }>(
      `select window_start, window_end, status, rows from cxone_od_sync.exports`,
    );
    expect(windows.map((w) => w.status)).toEqual(['loaded']);
    const rows = [...fake.rows('cxone', copilotAq.name)].sort(
      (a, b) =>
        Date.parse(String(a[copilotAq.eventTime])) - Date.parse(String(b[copilotAq.eventTime])) ||
        Number(a._source_line) - Number(b._source_line),
    );
    expect(rows.length).toBe(Number(windows[0]?.rows));
    expectRowsMatchSimulator(rows, copilotAq, windows);
    const [wm] = await state.query<{ watermark: Date }>(`select watermark from cxone_od_sync.watermarks`);
    expect(wm?.watermark.toISOString()).toBe(end.toISOString());

    // The same window again (an Airflow retry) loads nothing new and spends nothing.
    const again = await cli(sync, { env });
    expect(again.code, again.stderr).toBe(0);
    expect(ws.sim.stats.exportRequests).toHaveLength(1);
    expect(fake.rows('cxone', copilotAq.name)).toHaveLength(rows.length);

    // The access token never reaches output or state.
    const dump = JSON.stringify(await state.query(`select * from cxone_od_sync.exports`));
    for (const text of [
      check.stdout,
      check.stderr,
      failed.stdout,
      failed.stderr,
      ok.stdout,
      ok.stderr,
      dump,
    ]) {
      expect(text).not.toContain(fake.token);
    }
  });
});
