import { mkdir, readFile, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportFileName } from '../../connectors/cxone/export-client.js';
import { copilotAq } from '../../schemas/copilot-aq.js';
import type { RunOptions } from '../support/cli-harness.js';
import { e2eFixtures, yesterdayWindow } from '../support/e2e-fixture.js';
import type { SimulatorOptions } from '../support/simulator.js';
import { expectTableMatchesSimulator } from '../support/table-expectations.js';
import type { TestDatabase } from '../support/test-database.js';

interface LedgerRow {
  id: string;
  status: string;
  attempts: number;
  failures: number;
  vendor_export_id: string | null;
  archive_path: string | null;
  error: string | null;
  next_attempt_at: Date | null;
}

/**
 * Issue 13, defects 2 and 5: an export the vendor made is never written off by a problem of this
 * side (disk full, an archive path that is a file, the download host policy, an archived file lost
 * or truncated), and every stuck export has a way out (`exports`, a backoff), with one export
 * request per window throughout.
 */
describe('keeping exports through local problems (e2e)', () => {
  const start = e2eFixtures();

  const windowOf = yesterdayWindow;

  async function setup(
    sim: SimulatorOptions = {},
    account: Record<string, unknown> = {},
    extra: Record<string, unknown> = {},
  ) {
    const f = await start({
      sim,
      config: { streams: { copilot_aq: { timeZone: 'Europe/Berlin' } }, account, ...extra },
    });
    const w = windowOf();
    const args = ['sync', '--json', '--start', w.start.toISOString(), '--end', w.end.toISOString()];
    const sync = (opts: RunOptions = {}) => f.cli(args, opts);
    /** Where the first export's file is archived (ledger id 1 in a fresh database). */
    const archived = join(f.ws.dir, 'archive', 'copilot_aq', `1-${exportFileName('copilot_aq', w)}.csv`);
    return { ...f, sync, archived };
  }

  async function ledger(d: TestDatabase): Promise<LedgerRow[]> {
    return d.query<LedgerRow>(
      `select id, status, attempts, failures, vendor_export_id, archive_path, error, next_attempt_at
         from cxone_od_sync.exports order by id`,
    );
  }

  async function tableRows(d: TestDatabase): Promise<number> {
    const [r] = await d.query<{ n: string }>(
      `select count(*) as n from information_schema.tables where table_schema = 'cxone' and table_name = 'copilot_aq'`,
    );
    if (Number(r?.n) === 0) return 0;
    const [c] = await d.query<{ n: string }>(`select count(*) as n from cxone.copilot_aq`);
    return Number(c?.n);
  }

  it('keeps an export whose .part write hits a full disk, and loads it after the fix with no second request', async () => {
    const { sync, sim, db, archived } = await setup();
    // /dev/full answers every write with ENOSPC: the archive's disk is full for this file.
    await mkdir(join(archived, '..'), { recursive: true });
    await symlink('/dev/full', `${archived}.part`);

    const full = await sync();
    expect(full.code, full.stderr).toBe(1);
    expect(full.stderr).toContain('ENOSPC');
    expect(full.stderr).toContain('archive.dir');
    expect(full.stderr).toContain('free space');
    expect(sim.stats.exportRequests).toHaveLength(1);
    const [kept] = await ledger(db);
    expect(kept!.status).not.toBe('failed');
    expect(['submitted', 'ready']).toContain(kept!.status);
    expect(kept!.vendor_export_id).toBe(sim.stats.exportRequests[0]!.id);
    expect(kept!.attempts).toBe(0);
    expect(kept!.error).toContain('ENOSPC');
    const statusBefore = sim.stats.statusRequests;

    await rm(`${archived}.part`, { force: true });
    const fixed = await sync();
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stderr).toContain('resuming unfinished export');
    expect(sim.stats.exportRequests).toHaveLength(1);
    expect(sim.stats.statusRequests).toBeGreaterThan(statusBefore);
    expect((await ledger(db)).map((r) => [r.status, r.attempts])).toEqual([['loaded', 0]]);
    await expectTableMatchesSimulator(db, copilotAq);
  });

  it('fails check and sync before any request when archive.dir is a file', async () => {
    const { ws, sim, db, cli, sync } = await setup();
    const notADir = join(ws.dir, 'archive-is-a-file');
    await writeFile(notADir, 'not a directory\n');
    await ws.writeConfig({
      streams: { copilot_aq: { timeZone: 'Europe/Berlin' } },
      archive: { dir: join(notADir, 'archive'), keepDays: 30 },
    });

    const check = await cli(['check']);
    expect(check.code, check.stderr).toBe(1);
    expect(check.stderr).toContain('archive.dir');
    expect(check.stderr).toContain('ENOTDIR');
    expect(sim.stats.exportRequests).toHaveLength(0);

    const r = await sync();
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('archive.dir');
    expect(sim.stats.exportRequests).toHaveLength(0);
    expect(await ledger(db)).toEqual([]);
    expect(sim.stats.statusRequests).toBe(0);
  });

  it('keeps an export on a download host not allowed yet, and loads it once the host is added', async () => {
    // Download URLs on 0.0.0.0 (reaches the local simulator, not a loopback name): the policy applies.
    const { ws, sim, db, sync } = await setup(
      { publicHost: '0.0.0.0' },
      { allowInsecureDownloads: true, allowedDownloadHosts: ['downloads.example.com'] },
    );
    const refused = await sync();
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain('account.allowedDownloadHosts');
    expect(refused.stderr).toContain('is kept');
    expect(sim.stats.exportRequests).toHaveLength(1);
    expect(sim.stats.downloads).toBe(0);
    const [kept] = await ledger(db);
    expect(kept!.status).toBe('ready');
    expect(kept!.vendor_export_id).not.toBeNull();

    await ws.writeConfig({
      streams: { copilot_aq: { timeZone: 'Europe/Berlin' } },
      account: { allowInsecureDownloads: true, allowedDownloadHosts: ['downloads.example.com', '0.0.0.0'] },
    });
    const fixed = await sync();
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(sim.stats.exportRequests).toHaveLength(1);
    expect((await ledger(db)).map((r) => r.status)).toEqual(['loaded']);
    await expectTableMatchesSimulator(db, copilotAq);
  });

  /** A sync killed in the middle of its load: the row is `downloaded`, its file archived. */
  async function downloadedThenKilled() {
    const data = { slotMs: 2000 };
    const f = await setup({ data });
    const killed = await f.sync({
      env: { CXONE_OD_SYNC_TEST_PAUSE_AFTER_ROWS: '1000' },
      killWhen: (e) => e.includes('"msg":"test hook: paused after '),
    });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const [row] = await ledger(f.db);
    expect(row!.status).toBe('downloaded');
    expect(row!.archive_path).toBe(f.archived);
    return { ...f, data };
  }

  it('downloads an archived file lost with its disk again through the status, with no second request', async () => {
    const { sync, sim, db, archived, data } = await downloadedThenKilled();
    await rm(archived);
    const statusBefore = sim.stats.statusRequests;
    const downloadsBefore = sim.stats.downloads;

    const r = await sync();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('downloading it again through the status endpoint');
    expect(sim.stats.exportRequests).toHaveLength(1);
    expect(sim.stats.statusRequests).toBeGreaterThan(statusBefore);
    expect(sim.stats.downloads).toBe(downloadsBefore + 1);
    expect((await ledger(db)).map((x) => x.status)).toEqual(['loaded']);
    await expectTableMatchesSimulator(db, copilotAq, data);
  });

  it('refuses to replay a truncated archive, and sync downloads and loads the whole window', async () => {
    const { sync, cli, sim, db, archived, data } = await downloadedThenKilled();
    // Cut at a record boundary (a newline outside quotes), so that the rest is well-formed CSV:
    // only the recorded size and sha256 can tell that rows are missing.
    const text = await readFile(archived, 'utf8');
    let cut = 0;
    let quoted = false;
    for (let i = 0; i < text.length / 2; i++) {
      if (text[i] === '"') quoted = !quoted;
      else if (text[i] === '\n' && !quoted) cut = i + 1;
    }
    await truncate(archived, Buffer.byteLength(text.slice(0, cut)));
    expect((await stat(archived)).size).toBeLessThan(Buffer.byteLength(text));
    const statusBefore = sim.stats.statusRequests;

    const replay = await cli(['replay', '--export', '1']);
    expect(replay.code, replay.stderr).toBe(1);
    expect(`${replay.stdout}${replay.stderr}`).toMatch(/bytes, the ledger recorded/);
    expect(`${replay.stdout}${replay.stderr}`).toContain('Run `sync`');
    expect(sim.stats.statusRequests).toBe(statusBefore);
    expect(await tableRows(db)).toBe(0);
    expect((await ledger(db)).map((x) => x.status)).toEqual(['submitted']);

    const r = await sync();
    expect(r.code, r.stderr).toBe(0);
    expect(sim.stats.exportRequests).toHaveLength(1);
    expect(sim.stats.statusRequests).toBeGreaterThan(statusBefore);
    expect((await ledger(db)).map((x) => x.status)).toEqual(['loaded']);
    await expectTableMatchesSimulator(db, copilotAq, data);
  });

  it('backs off an export the API no longer knows, lists it, and requests its window again once abandoned', async () => {
    // The export stays Pending past the poll budget: the first sync leaves it in flight.
    const { sync, cli, sim, db } = await setup(
      { faults: { processingMs: 3_600_000 } },
      { pollTimeoutMinutes: 0.005 },
    );
    const first = await sync();
    expect(first.code, first.stderr).toBe(75);
    expect(sim.stats.exportRequests).toHaveLength(1);

    // The vendor forgets it, and the request is older than the 2-minute grace of a 404.
    sim.setFaults({ forgetExports: true });
    await db.query(
      `update cxone_od_sync.exports set submitted_at = submitted_at - interval '10 minutes', reserved_at = reserved_at - interval '10 minutes'`,
    );
    const forgotten = await sync();
    expect(forgotten.code, forgotten.stderr).toBe(1);
    expect(forgotten.stderr).toContain('the API no longer knows export');
    expect(forgotten.stderr).toContain('exports abandon 1');
    let [row] = await ledger(db);
    expect(row!.status).toBe('submitted');
    expect(row!.failures).toBe(1);
    expect(row!.next_attempt_at!.getTime()).toBeGreaterThan(Date.now());

    // In backoff: the next sync does not ask the API about it again, and says so.
    const statusBefore = sim.stats.statusRequests;
    const skipped = await sync();
    expect(skipped.code, skipped.stderr).toBe(1);
    expect(skipped.json.streams[0].error).toContain('exports abandon 1');
    expect(sim.stats.statusRequests).toBe(statusBefore);
    expect(sim.stats.exportRequests).toHaveLength(1);

    const status = await cli(['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.json.streams[0].inFlight[0].stuck).toContain('exports abandon 1');
    const listed = await cli(['exports', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.json.exports).toHaveLength(1);
    expect(listed.json.exports[0]).toMatchObject({
      ledgerId: '1',
      status: 'submitted',
      inBackoff: true,
      failures: 1,
    });

    const abandoned = await cli(['exports', 'abandon', '1', '--reason', 'vendor lost it', '--json']);
    expect(abandoned.code, abandoned.stderr).toBe(0);
    [row] = await ledger(db);
    expect(row!.status).toBe('failed');
    expect(row!.error).toContain('vendor lost it');
    const runs = await db.query<{ command: string }>(`select command from cxone_od_sync.runs order by id`);
    expect(runs.map((x) => x.command)).toContain('exports abandon');

    sim.setFaults({ forgetExports: false, processingMs: 0 });
    const again = await sync();
    expect(again.code, again.stderr).toBe(0);
    expect(sim.stats.exportRequests).toHaveLength(2);
    expect((await ledger(db)).map((x) => x.status)).toEqual(['failed', 'loaded']);
    await expectTableMatchesSimulator(db, copilotAq);
  });
});
