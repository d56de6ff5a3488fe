import { describe, expect, it } from 'vitest';
import { e2eFixtures } from '../support/e2e-fixture.js';

/** The shared quota across processes, the vendor's quota error, and `plan`/`status`. */
describe('quota (e2e)', () => {
  const startE2e = e2eFixtures();

  const start = () => {
    const s = new Date(Date.now() - 2 * 86_400_000);
    s.setUTCHours(0, 0, 0, 0);
    return s.toISOString();
  };
  const allStreams = () => ({
    copilot_kb: { start: start() },
    copilot_as: { start: start() },
    copilot_aq: { start: start() },
    autopilot_gr: { start: start() },
  });

  it('with four streams due and a quota of 3, sends exactly 3 and exits 75; a second sync sends none', async () => {
    const { ws, cli } = await startE2e({
      sim: { faults: { quota: 10 } },
      config: { account: { exportsPer24h: 3 }, streams: allStreams() },
    });
    const run = (args: string[]) => cli([...args, '--json']);

    const planBefore = await run(['plan']);
    expect(planBefore.code, planBefore.stderr).toBe(0);
    expect(planBefore.json.quota).toMatchObject({ limit: 3, used: 0, left: 3 });
    const whens = planBefore.json.streams.map((s: { windows: { when: string }[] }) => s.windows[0]!.when);
    expect(whens.filter((w: string) => w === 'now')).toHaveLength(3);
    expect(whens.filter((w: string) => w === 'when a quota slot frees')).toHaveLength(1);
    expect(ws.sim.stats.exportRequests).toHaveLength(0);

    const first = await run(['sync']);
    expect(first.code, first.stderr).toBe(75);
    expect(first.json.outcome).toBe('deferred');
    expect(first.json.exportsRequested).toBe(3);
    expect(ws.sim.stats.exportRequests).toHaveLength(3);
    expect(first.json.nextSlotAt).toEqual(expect.any(String));
    const deferred = first.json.streams.filter(
      (s: { state: string; exports: unknown[] }) => s.state === 'deferred' && s.exports.length === 0,
    );
    expect(deferred).toHaveLength(1);

    const second = await run(['sync']);
    expect(second.code, second.stderr).toBe(75);
    expect(second.json.exportsRequested).toBe(0);
    expect(ws.sim.stats.exportRequests).toHaveLength(3);
    expect(second.json.nextSlotAt).toBe(first.json.nextSlotAt);

    const plan = await run(['plan']);
    expect(plan.json.quota).toMatchObject({ used: 3, left: 0, nextSlotAt: first.json.nextSlotAt });
    const status = await run(['status']);
    expect(status.code).toBe(0);
    expect(status.json.quota).toMatchObject({ limit: 3, used: 3, nextSlotAt: first.json.nextSlotAt });
    expect(
      status.json.streams.filter((s: { watermark: string | null }) => s.watermark !== null),
    ).toHaveLength(3);
  });

  it('several sync processes at once send at most the quota together and never the same window twice', async () => {
    const { db, ws, cli } = await startE2e({
      sim: { faults: { quota: 50 } },
      config: { account: { exportsPer24h: 3 }, streams: allStreams() },
    });
    const results = await Promise.all(Array.from({ length: 5 }, () => cli(['sync', '--json'])));
    for (const r of results) expect([0, 75], r.stderr).toContain(r.code);
    const requests = ws.sim.stats.exportRequests;
    expect(requests.length).toBe(3);
    const keys = requests.map((e) => `${e.path} ${e.startDate} ${e.endDate}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(requests.map((e) => e.path)).size).toBe(3);
    const ledger = await db.query<{ n: string }>(
      `select count(*) as n from cxone_od_sync.exports where counts_quota`,
    );
    expect(Number(ledger[0]!.n)).toBe(3);
    const loaded = await db.query<{ n: string }>(
      `select count(*) as n from cxone_od_sync.exports where status = 'loaded'`,
    );
    expect(Number(loaded[0]!.n)).toBe(3);
  });

  it('--max-exports caps the requests of one run, and reset moves a watermark back so the span is due again', async () => {
    const { ws, cli } = await startE2e({
      sim: { faults: { quota: 10 } },
      config: { account: { exportsPer24h: 10 }, streams: allStreams() },
    });
    const run = (args: string[]) => cli([...args, '--json']);

    const capped = await run(['sync', '--max-exports', '2']);
    expect(capped.code, capped.stderr).toBe(75);
    expect(ws.sim.stats.exportRequests).toHaveLength(2);
    expect(
      capped.json.streams.filter((s: { note?: string }) => s.note === '--max-exports 2 reached'),
    ).toHaveLength(2);

    const [loaded] = capped.json.streams.filter((s: { state: string }) => s.state === 'done');
    const target = '2020-01-01T00:00:00.000Z';
    const refused = await run(['reset', '--stream', loaded.stream, '--to', target]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    const reset = await run(['reset', '--stream', loaded.stream, '--to', target, '--yes']);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.json.changes).toEqual([{ stream: loaded.stream, from: expect.any(String), to: target }]);
    const status = await run(['status']);
    expect(status.json.streams.find((s: { stream: string }) => s.stream === loaded.stream).watermark).toBe(
      target,
    );
    const cleared = await run(['reset', '--stream', loaded.stream, '--yes']);
    expect(cleared.json.changes[0].to).toBeNull();
    const plan = await run(['plan', '--stream', loaded.stream]);
    expect(plan.json.streams[0].watermark).toBeNull();
  });

  it('refuses an explicit window older than the horizon before any request, naming the setting', async () => {
    const { ws, cli } = await startE2e({ config: { streams: { copilot_kb: {} } } });
    const old = new Date(Date.now() - 200 * 86_400_000).toISOString();
    const r = await cli([
      'sync',
      '--json',
      '--start',
      old,
      '--end',
      new Date(Date.now() - 199 * 86_400_000).toISOString(),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/older than the 4-month export horizon.*historyAuthorized/);
    expect(ws.sim.stats.exportRequests).toHaveLength(0);
  });

  it('records a gap for a watermark older than the horizon and shows it in status', async () => {
    const { ws, cli } = await startE2e({
      config: { streams: { copilot_kb: { start: new Date(Date.now() - 200 * 86_400_000).toISOString() } } },
    });
    const r = await cli(['sync', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.streams[0].gaps).toHaveLength(1);
    const req = ws.sim.stats.exportRequests[0]!;
    expect(new Date(req.startDate).getTime()).toBeGreaterThan(Date.now() - 124 * 86_400_000);
    expect(new Date(req.startDate).getTime()).toBeLessThan(Date.now() - 115 * 86_400_000);
    const status = await cli(['status', '--json']);
    expect(status.json.streams[0].gaps).toEqual([
      { start: expect.any(String), end: expect.any(String), reason: expect.stringContaining('4-month') },
    ]);
  });
});
