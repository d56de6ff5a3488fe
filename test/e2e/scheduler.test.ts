import { describe, expect, it } from 'vitest';
import { e2eFixtures } from '../support/e2e-fixture.js';

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;

/** The quota scheduler through the built CLI: nothing due, a horizon backlog, the forecast, --no-wait. */
describe('scheduler (e2e)', () => {
  const startE2e = e2eFixtures();

  const twoDaysAgo = () => {
    const s = new Date(Date.now() - 2 * dayMs);
    s.setUTCHours(0, 0, 0, 0);
    return s.toISOString();
  };
  const allStreams = () => ({
    copilot_kb: { start: twoDaysAgo() },
    copilot_as: { start: twoDaysAgo() },
    copilot_aq: { start: twoDaysAgo() },
    autopilot_gr: { start: twoDaysAgo() },
  });

  it('with quota 8, a sync right after a successful one sends nothing, exits 0 and says when the next export is due', async () => {
    const { ws, cli } = await startE2e({
      sim: { faults: { quota: 8 } },
      config: { account: { exportsPer24h: 8 }, streams: allStreams() },
    });
    const first = await cli(['sync', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.exportsRequested).toBe(4);

    const second = await cli(['sync', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.json.outcome).toBe('done');
    expect(second.json.exportsRequested).toBe(0);
    expect(ws.sim.stats.exportRequests).toHaveLength(4);
    const nextDue = Date.parse(second.json.nextDueAt);
    expect(nextDue).toBeGreaterThan(Date.now());
    for (const s of second.json.streams) {
      expect(s.nextDueAt, JSON.stringify(s)).toEqual(expect.any(String));
      expect(s.note).toMatch(/^not due: /);
    }

    // status shows the same next due times, as the scheduler decides them for now.
    const status = await cli(['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    for (const s of status.json.streams) expect(Date.parse(s.nextDueAt)).toBeGreaterThan(Date.now());
    expect(ws.sim.stats.exportRequests).toHaveLength(4);
  });

  it('a watermark older than the 4-month horizon recovers to small windows within two syncs', async () => {
    const { db, ws, cli } = await startE2e({
      sim: { faults: { quota: 10 } },
      config: { streams: { copilot_kb: {} } },
    });
    const old = new Date(Date.now() - 200 * dayMs).toISOString();
    const reset = await cli(['reset', '--stream', 'copilot_kb', '--to', old, '--yes', '--json']);
    expect(reset.code, reset.stderr).toBe(0);

    // First sync: the gap is recorded, the watermark moves to the horizon, [horizon, now - settle]
    // is requested and loaded.
    const before = await cli(['plan', '--json']);
    const horizon = Date.parse(before.json.horizon);
    const first = await cli(['sync', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.streams[0].gaps).toEqual([
      { start: old, end: expect.any(String), reason: expect.stringContaining('4-month') },
    ]);
    expect(Math.abs(Date.parse(first.json.streams[0].gaps[0].end) - horizon)).toBeLessThan(60_000);
    expect(ws.sim.stats.exportRequests).toHaveLength(1);
    const req = ws.sim.stats.exportRequests[0]!;
    expect(Math.abs(Date.parse(req.startDate) - horizon)).toBeLessThan(5 * 60_000);
    expect(Date.now() - 15 * 60_000 - Date.parse(req.endDate)).toBeLessThan(5 * 60_000);
    const ledger = await db.query<{ status: string; window_start: Date; window_end: Date }>(
      `select status, window_start, window_end from cxone_od_sync.exports order by id`,
    );
    expect(ledger).toHaveLength(1);
    expect(ledger[0]!.status).toBe('loaded');

    // After it loaded, the next due window is small: the lookback (1 day) and the time since.
    const plan = await cli(['plan', '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    const [stream] = plan.json.streams;
    expect(Date.parse(stream.watermark)).toBe(ledger[0]!.window_end.getTime());
    expect(stream.windows).toHaveLength(1);
    const span = Date.parse(stream.windows[0].end) - Date.parse(stream.windows[0].start);
    expect(span).toBeLessThanOrEqual(dayMs + dayMs);
    expect(Date.parse(stream.nextDueAt)).toBeGreaterThan(Date.now());

    // The second sync right after sends nothing (too little new data), and keeps the gap once.
    const second = await cli(['sync', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.json.exportsRequested).toBe(0);
    const status = await cli(['status', '--json']);
    expect(status.json.streams[0].gaps).toHaveLength(1);
    expect(ws.sim.stats.exportRequests).toHaveLength(1);
  });

  it('plan --horizon 7d gives each stream its request times and worst lag, within the quota', async () => {
    const { ws, cli } = await startE2e({
      sim: { faults: { quota: 10 } },
      config: { account: { exportsPer24h: 3 }, streams: allStreams() },
    });
    const first = await cli(['sync', '--json']);
    expect(first.code, first.stderr).toBe(75);
    expect(ws.sim.stats.exportRequests).toHaveLength(3);

    const plan = await cli(['plan', '--horizon', '7d', '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    const f = plan.json.forecast;
    expect(f.horizon).toBe('7d');
    // One sync recorded: the cadence is the default, hourly, and the output says so.
    expect(f.cadence).toMatchObject({ everyMs: hourMs, source: 'default' });
    expect(f.cadence.runs).toBeGreaterThanOrEqual(167);
    expect(f.streams.map((s: { stream: string }) => s.stream).sort()).toEqual(
      ['autopilot_gr', 'copilot_aq', 'copilot_as', 'copilot_kb'].sort(),
    );
    const now = Date.parse(plan.json.now);
    const forecastRequests: number[] = [];
    for (const s of f.streams) {
      expect(s.requests.length, s.stream).toBeGreaterThanOrEqual(4);
      expect(s.nextRequestAt).toBe(s.requests[0]);
      for (const r of s.requests) {
        const t = Date.parse(r);
        expect(t).toBeGreaterThanOrEqual(now);
        expect(t).toBeLessThan(now + 7 * dayMs);
      }
      forecastRequests.push(...s.requests.map((r: string) => Date.parse(r)));
      expect(s.worstLagHours).toBeGreaterThan(0);
      expect(s.worstLagHours).toBeLessThanOrEqual(49);
      expect(s.meanLagHours).toBeLessThanOrEqual(s.worstLagHours);
    }
    // With the 3 already spent: never more than 3 in any rolling 24 hours, and all but a few of
    // the week's 21 slots used.
    const all = [...ws.sim.stats.exportRequests.map((r) => r.createdAt), ...forecastRequests].sort(
      (a, b) => a - b,
    );
    for (const t of all) expect(all.filter((x) => x > t - dayMs && x <= t).length).toBeLessThanOrEqual(3);
    expect(forecastRequests.length).toBeGreaterThanOrEqual(19);
    // The stream the first sync could not serve is the first to be requested.
    const waiting = first.json.streams.find((s: { exports: unknown[] }) => s.exports.length === 0).stream;
    const firstForecast = [...f.streams].sort((a, b) => a.nextRequestAt.localeCompare(b.nextRequestAt))[0];
    expect(firstForecast.stream).toBe(waiting);

    const human = await cli(['plan', '--horizon', '7d']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/assuming a sync every 1 h \(the default: fewer than 3 syncs recorded/);
    const bad = await cli(['plan', '--horizon', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--horizon .{0,4}soon.{0,4}: give a duration/);
  });

  it('--no-wait: with the quota used and a slot freeing in 5 minutes, exits 75 at once with nextSlotAt', async () => {
    const { db, ws, cli } = await startE2e({
      sim: { faults: { quota: 10 } },
      config: { account: { exportsPer24h: 3 }, streams: { copilot_kb: { start: twoDaysAgo() } } },
    });
    const migrate = await cli(['migrate', '--json']);
    expect(migrate.code, migrate.stderr).toBe(0);
    // Three requests counted 23 h 55 min ago (another process, say): the oldest frees in 5 minutes.
    const at = new Date(Date.now() - dayMs + 5 * 60_000);
    for (let i = 0; i < 3; i++) {
      await db.query(
        `insert into cxone_od_sync.exports (account, stream, api_path, window_start, window_end, time_zone,
           request_body, status, counts_quota, reserved_at, submitted_at, file_name, updated_at)
         values ('e2e', 'copilot_as', 'x', $1, $2, 'UTC', '{}', 'loaded', true, $3, $3, 'f', $3)`,
        [new Date(at.getTime() - (i + 2) * dayMs), new Date(at.getTime() - (i + 1) * dayMs), at],
      );
    }
    const t0 = Date.now();
    const r = await cli(['sync', '--no-wait', '--json']);
    expect(r.code, r.stderr).toBe(75);
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(r.json.exportsRequested).toBe(0);
    expect(ws.sim.stats.exportRequests).toHaveLength(0);
    const free = Date.parse(r.json.nextSlotAt) - Date.now();
    expect(free).toBeGreaterThan(3 * 60_000);
    expect(free).toBeLessThanOrEqual(5 * 60_000 + 5_000);
  });
});
