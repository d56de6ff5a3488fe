import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { copilotAq } from '../../schemas/copilot-aq.js';
import type { RunOptions } from '../support/cli-harness.js';
import { e2eFixtures, yesterdayWindowArgs } from '../support/e2e-fixture.js';
import type { SimulatorFaults, SimulatorOptions } from '../support/simulator.js';
import { expectTableMatchesSimulator } from '../support/table-expectations.js';
import type { TestDatabase } from '../support/test-database.js';

/**
 * The persisted export lifecycle over real HTTP and real processes: a SIGKILL at any step, bad
 * downloads, expired URLs, token loss and server errors never cost a second export.
 */
describe('export lifecycle (e2e)', () => {
  const start = e2eFixtures();

  const windowArgs = yesterdayWindowArgs;

  async function setup(sim: SimulatorOptions = {}, account: Record<string, unknown> = {}) {
    const f = await start({
      sim,
      config: { streams: { copilot_aq: { timeZone: 'Europe/Berlin' } }, account },
    });
    const args = ['sync', '--json', ...windowArgs()];
    const sync = (opts: RunOptions = {}) => f.cli(args, opts);
    return { sync, ws: f.ws, db: f.db, cli: f.cli };
  }

  async function ledger(d: TestDatabase) {
    return d.query<{ status: string; attempts: number }>(
      `select status, attempts from cxone_od_sync.exports order by id`,
    );
  }

  const killCases: {
    name: string;
    sim: SimulatorOptions;
    marker: string;
    /** Environment of the killed run only (a test hook). */
    env?: NodeJS.ProcessEnv;
    statusAfterKill: string[];
    heal?: SimulatorFaults;
  }[] = [
    {
      name: 'after the request is accepted',
      sim: { faults: { processingMs: 1500 } },
      marker: '"msg":"export submitted"',
      statusAfterKill: ['submitted'],
    },
    {
      name: 'while polling',
      sim: { faults: { processingMs: 2500 } },
      marker: '"msg":"export processing at the API; polling"',
      statusAfterKill: ['submitted'],
    },
    {
      name: 'in the middle of the download',
      // The simulator stops sending after 1000 bytes: the download is in the middle whenever the
      // process is killed after it began.
      sim: { faults: { stallDownloadsAfterBytes: 1000 } },
      marker: '"msg":"downloading"',
      statusAfterKill: ['ready'],
      heal: { stallDownloadsAfterBytes: 0 },
    },
    {
      name: 'in the middle of the load',
      sim: { data: { slotMs: 2000 } },
      // A test hook stops the load once 1000 rows are with the destination; it is killed there.
      env: { CXONE_OD_SYNC_TEST_PAUSE_AFTER_ROWS: '1000' },
      marker: '"msg":"test hook: paused after ',
      statusAfterKill: ['downloaded'],
    },
  ];

  it.each(killCases)(
    'resumes after SIGKILL $name, with no second request, and the table equals one clean sync',
    async (c) => {
      const { sync, ws, db } = await setup(c.sim);
      const killed = await sync({
        killWhen: (e) => e.includes(c.marker),
        ...(c.env ? { env: c.env } : {}),
      });
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      expect((await ledger(db)).map((r) => r.status)).toEqual(c.statusAfterKill);
      const [{ n }] = (await db.query<{ n: string }>(
        `select count(*) as n from cxone_od_sync.watermarks`,
      )) as [{ n: string }];
      expect(Number(n)).toBe(0);
      if (c.heal) ws.sim.setFaults(c.heal);

      const rerun = await sync();
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(rerun.stderr).toContain('resuming unfinished export');
      expect(ws.sim.stats.exportRequests).toHaveLength(1);
      expect((await ledger(db)).map((r) => r.status)).toEqual(['loaded']);
      await expectTableMatchesSimulator(db, copilotAq, c.sim.data);

      const again = await sync();
      expect(again.code).toBe(0);
      expect(ws.sim.stats.exportRequests).toHaveLength(1);
    },
  );

  it.each([true, false])(
    'loads nothing of a download cut off mid-record (Content-Length %s) and fetches it again via the status',
    async (withContentLength) => {
      const { sync, ws, db } = await setup({
        faults: { truncateDownloads: { count: 1, withContentLength } },
      });
      const r = await sync();
      expect(r.code, r.stderr).toBe(0);
      expect(ws.sim.stats.exportRequests).toHaveLength(1);
      expect(ws.sim.stats.downloads).toBe(2);
      expect(ws.sim.stats.statusRequests).toBeGreaterThanOrEqual(2);
      expect(r.stderr).toMatch(/cut off|malformed/);
      expect((await ledger(db))[0]).toEqual({ status: 'loaded', attempts: 1 });
      await expectTableMatchesSimulator(db, copilotAq);
    },
  );

  it('renews a token that stops working mid-sync', async () => {
    const { sync, ws, db } = await setup({ faults: { processingMs: 1200 } });
    let revoked = false;
    const r = await sync({
      onStderr: (e) => {
        if (!revoked && e.includes('"msg":"export processing at the API; polling"')) {
          revoked = true;
          ws.sim.setFaults({ revokeTokens: true });
        }
      },
    });
    expect(revoked).toBe(true);
    expect(r.code, r.stderr).toBe(0);
    expect(ws.sim.stats.tokenRequests).toBe(2);
    expect(ws.sim.stats.exportRequests).toHaveLength(1);
    await expectTableMatchesSimulator(db, copilotAq);
  });

  it('rides out bursts of 503 and 429 with Retry-After on every endpoint', async () => {
    const { sync, ws, db } = await setup(
      {
        faults: {
          failNext: [
            { kind: 'token', status: 503, count: 2, retryAfterSeconds: 0 },
            { kind: 'export', status: 429, count: 2, retryAfterSeconds: 1 },
            { kind: 'export', status: 503, count: 1 },
            { kind: 'status', status: 503, count: 3 },
            { kind: 'status', status: 429, count: 1, retryAfterSeconds: 0 },
            { kind: 'download', status: 503, count: 2, retryAfterSeconds: 0 },
          ],
        },
      },
      // Retry-After is honoured, cut to 50 ms here so that the test does not wait it out.
      { httpMaxRetryAfterSeconds: 0.05 },
    );
    const r = await sync();
    expect(r.code, r.stderr).toBe(0);
    expect(ws.sim.stats.exportRequests).toHaveLength(1);
    expect(r.stderr).toContain('"status":429');
    await expectTableMatchesSimulator(db, copilotAq);
  });

  it('never writes a secret, token or signed URL query to logs, JSON output or state rows', async () => {
    const { sync, ws, db, cli } = await setup({
      faults: { truncateDownloads: { count: 1, withContentLength: true }, expireNextUrls: 1 },
    });
    const r = await sync();
    expect(r.code, r.stderr).toBe(0);
    const status = await cli(['status', '--json']);
    const state = JSON.stringify(
      await Promise.all(
        ['exports', 'runs', 'rejected_rows', 'gaps', 'watermarks', 'quota_blocks'].map((t) =>
          db.query(`select * from cxone_od_sync.${t}`),
        ),
      ),
    );
    const config = await readFile(ws.configPath, 'utf8');
    const haystacks = {
      stdout: r.stdout,
      stderr: r.stderr,
      status: status.stdout + status.stderr,
      state,
      config,
    };
    const needles = [
      ws.sim.credentials.clientSecret,
      ws.sim.credentials.accessSecret,
      ...ws.sim.stats.issuedTokens,
      ...ws.sim.stats.downloadUrls.map((u) => new URL(u).search.slice(1)),
      ...ws.sim.stats.downloadUrls.map((u) => new URL(u).searchParams.get('sig')!),
    ];
    expect(needles.length).toBeGreaterThan(4);
    for (const [where, text] of Object.entries(haystacks)) {
      for (const secret of needles) expect(text.includes(secret), `${where} contains a secret`).toBe(false);
    }
    expect(ws.sim.stats.downloadsWithAuthorization).toBe(0);
  });
});
