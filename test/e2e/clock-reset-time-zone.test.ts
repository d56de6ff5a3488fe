import { describe, expect, it } from 'vitest';
import { e2eFixtures } from '../support/e2e-fixture.js';

// Issue 13's smaller defects that live in the CLI: --start/--end read in UTC whatever the host's
// time zone, no planning against a clock the vendor disagrees with, and no reset under a running
// sync. The built CLI against the simulator over HTTP and a real PostgreSQL.

const day = 86_400_000;
const end = new Date(Date.now() - day);
end.setUTCHours(0, 0, 0, 0);
const start = new Date(end.getTime() - day);
/** `2026-11-26T00:00`: an ISO date-time without Z or offset. */
const noOffset = (d: Date) => d.toISOString().slice(0, 16);

describe('CLI safety (e2e)', () => {
  const startE2e = e2eFixtures();

  it('reads --start/--end without an offset in UTC on a host in New York', async () => {
    const { cli, db } = await startE2e({ config: { streams: { copilot_kb: {} } } });
    const env = { TZ: 'America/New_York' };
    const plan = await cli(['plan', '--start', noOffset(start), '--end', noOffset(end), '--json'], { env });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.json.streams[0].windows[0]).toMatchObject({
      start: start.toISOString(),
      end: end.toISOString(),
    });

    const sync = await cli(['sync', '--start', noOffset(start), '--end', noOffset(end), '--json'], { env });
    expect(sync.code, sync.stderr).toBe(0);
    const ledger = await db.query<{ window_start: Date; window_end: Date }>(
      'select window_start, window_end from cxone_od_sync.exports',
    );
    expect(ledger).toEqual([{ window_start: start, window_end: end }]);
  });

  it("refuses to plan when the local clock is two days off the vendor's, before any request", async () => {
    const f = await startE2e({
      sim: { faults: { dateOffsetMs: -2 * day } },
      config: { streams: { copilot_kb: {}, copilot_as: {} } },
    });
    const r = await f.cli(['sync', '--json']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.json).toMatchObject({
      outcome: 'error',
      exitCode: 1,
      error: { type: 'ClockSkewError', retryable: false },
    });
    expect(r.json.error.message).toMatch(
      /local clock \(.+\) is 2880 minutes ahead of the vendor's \(Date header .+\)/,
    );
    expect(f.sim.stats.exportRequests).toHaveLength(0);
    for (const table of ['exports', 'watermarks', 'gaps', 'quota_blocks'])
      expect(await f.db.query(`select * from cxone_od_sync.${table}`)).toEqual([]);

    // The clocks agreeing again, the same sync runs.
    f.sim.setFaults({ dateOffsetMs: 0 });
    const again = await f.cli(['sync', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(f.sim.stats.exportRequests).toHaveLength(2);
  });

  it('refuses reset while another host holds an unexpired claim on an export of the stream', async () => {
    // The window begins at the stream's start, so that its load sets the first watermark.
    const { cli, db } = await startE2e({
      config: { streams: { copilot_kb: { start: start.toISOString() } } },
    });
    const sync = await cli(['sync', '--start', start.toISOString(), '--end', end.toISOString(), '--json']);
    expect(sync.code, sync.stderr).toBe(0);
    const watermark = async () =>
      (await db.query<{ watermark: Date }>('select watermark from cxone_od_sync.watermarks'))[0]?.watermark;
    const before = await watermark();
    expect(before).toBeInstanceOf(Date);

    // A sync on another host is working on the stream: an unfinished export, its claim renewed a
    // moment ago.
    await db.query(
      `update cxone_od_sync.exports set status = 'downloaded', claimed_by = 'worker-7.example:4242:abc123', claim_expires_at = now() + interval '9 minutes'`,
    );
    const refused = await cli(['reset', '--stream', 'copilot_kb', '--yes', '--json']);
    expect(refused.code, refused.stderr).toBe(75);
    expect(refused.json).toMatchObject({
      outcome: 'error',
      exitCode: 75,
      error: { type: 'StreamBusyError' },
    });
    expect(refused.json.error.message).toContain('claimed by worker-7.example:4242:abc123');
    expect(await watermark()).toEqual(before);
    // A replay of that export waits for the same process, with the same exit code.
    const ledgerId = (sync.json.streams[0].exports[0] as { ledgerId: string }).ledgerId;
    const replay = await cli(['replay', '--export', ledgerId, '--json']);
    expect(replay.code, replay.stderr).toBe(75);
    expect(replay.json).toMatchObject({ outcome: 'error', exitCode: 75, error: { type: 'ExportBusyError' } });
    expect(replay.json.error.message).toContain('worked on by another process (worker-7.example)');

    // Its claim expired (the process died): reset goes ahead.
    await db.query(`update cxone_od_sync.exports set claim_expires_at = now() - interval '1 minute'`);
    const done = await cli(['reset', '--stream', 'copilot_kb', '--yes', '--json']);
    expect(done.code, done.stderr).toBe(0);
    expect(await watermark()).toBeUndefined();
  });
});
