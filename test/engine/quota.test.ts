import { describe, expect, it } from 'vitest';
import {
  ApiError,
  ExportRefusedError,
  QuotaExhaustedError,
  RequestNotSentError,
  RequestNotTakenError,
} from '../../src/errors.js';
import { runSync } from '../../src/run/sync-runner.js';
import { engineHarness } from '../support/engine-harness.js';

const four = {
  copilot_kb: { start: '2026-11-18T00:00:00Z' },
  copilot_as: { start: '2026-11-18T00:00:00Z' },
  copilot_aq: { start: '2026-11-18T00:00:00Z' },
  autopilot_gr: { start: '2026-11-18T00:00:00Z' },
};

/** The quota as requests spend it, driven in this process; asserted on the ledger and the quota view. */
describe('quota spending (in-process)', () => {
  const engine = engineHarness();
  const quota = { perDay: 3, reserveForOthers: 0 };

  it('with four streams due and a quota of 3, sends exactly 3 and defers the fourth; a second sync sends none', async () => {
    const e = await engine({ streams: four });
    const first = await runSync(e.deps);
    expect(first.exitCode).toBe(75);
    expect(first.exportsRequested).toBe(3);
    expect(first.streams.filter((s) => s.state === 'deferred')).toHaveLength(1);
    expect(first.nextSlotAt).not.toBeNull();
    const second = await runSync({ ...e.deps }, { noWait: true });
    expect(second.exportsRequested).toBe(0);
    expect(e.api.calls.submit).toBe(3);
    expect((await e.state.quota.view('acct', quota, e.clock.now())).used).toBe(3);
    // A day later the slots are free again.
    e.clock.advance(24 * 3_600_000 + 60_000);
    expect((await e.state.quota.view('acct', quota, e.clock.now())).used).toBe(0);
  });

  it('counts a request the API refused (4xx) or never took (503, no connection) as nothing, and an unconfirmed one (502) as spent', async () => {
    const cases = [
      [new ExportRefusedError('export request answered HTTP 400: bad filter', 400), false],
      [new RequestNotTakenError('503 after every retry', 503), false],
      [new RequestNotSentError('connection refused'), false],
      [new ApiError('502 Bad Gateway after the request was sent', 502), true],
    ] as const;
    for (const [error, counted] of cases) {
      const e = await engine();
      e.api.onSubmit = () => error;
      await runSync(e.deps, { noWait: true });
      const [r] = await e.records();
      expect(r, error.message).toMatchObject({ status: 'failed', countsQuota: counted, claimedBy: null });
      expect((await e.state.quota.view('acct', quota, e.clock.now())).used, error.message).toBe(
        counted ? 1 : 0,
      );
    }
  });

  it("records the API's quota refusal: nothing counted, nothing sent until the block ends", async () => {
    const e = await engine({ streams: four });
    e.api.onSubmit = (_r, n) =>
      n === 2 ? new QuotaExhaustedError(null, 'limit is 3 exports per 24 hours') : undefined;
    const s = await runSync(e.deps, { noWait: true });
    expect(s.exitCode).toBe(75);
    const view = await e.state.quota.view('acct', quota, e.clock.now());
    expect(view.blockedUntil).not.toBeNull();
    // Our one accepted request explains 1 of 3: the others hold 2, left to them for a while.
    expect(view.othersSeen?.slots).toBe(2);
    const refused = (await e.records()).find((r) => r.status === 'failed')!;
    expect(refused.countsQuota).toBe(false);
    const calls = e.api.calls.submit;
    await runSync(e.deps, { noWait: true });
    expect(e.api.calls.submit).toBe(calls);
  });

  it('spends nothing while the token endpoint is down', async () => {
    const e = await engine();
    e.api.authorizeError = new RequestNotSentError('token endpoint refused the connection');
    const s = await runSync(e.deps);
    expect(s.exitCode).toBe(1);
    expect(await e.records()).toEqual([]);
    expect(e.api.calls.submit).toBe(0);
  });

  it('gives the slot of a stream the API refuses to the next stream at once, and backs the refused one off', async () => {
    const e = await engine({ streams: four });
    e.api.onSubmit = (r) =>
      r.stream === 'copilot_kb'
        ? new ExportRefusedError('export request answered HTTP 403: Forbidden', 403)
        : undefined;
    const s = await runSync(e.deps, { noWait: true });
    const kb = s.streams.find((x) => x.stream === 'copilot_kb')!;
    expect(kb.backoff).toMatchObject({ reason: 'not_exposed', failures: 1 });
    const loaded = (await e.records()).filter((r) => r.status === 'loaded').map((r) => r.stream);
    expect(loaded.sort()).toEqual(['autopilot_gr', 'copilot_aq', 'copilot_as']);
    // The next sync does not ask for it again while the backoff runs.
    const calls = e.api.calls.submit;
    e.clock.advance(24 * 3_600_000 - 60_000);
    await runSync(e.deps, { noWait: true });
    expect((await e.records()).filter((r) => r.stream === 'copilot_kb')).toHaveLength(1);
    expect(e.api.calls.submit).toBeGreaterThanOrEqual(calls);
  });

  it('does not request an explicit window already loaded (an orchestrator rerun), and says which export has it', async () => {
    const e = await engine();
    const window = { start: new Date('2026-11-19T00:00:00Z'), end: new Date('2026-11-20T00:00:00Z') };
    expect((await runSync(e.deps, { window })).exitCode).toBe(0);
    const again = await runSync(e.deps, { window });
    expect(again.exitCode).toBe(0);
    expect(again.exportsRequested).toBe(0);
    expect(again.streams[0]!.note).toMatch(/window already loaded by export 1; use replay --export 1/);
    expect(e.api.calls.submit).toBe(1);
  });

  it('does not request a window planned from a watermark a reset moved meanwhile', async () => {
    const e = await engine();
    expect((await runSync(e.deps)).exitCode).toBe(0);
    const before = (await e.state.watermarks.byStream('acct')).get('copilot_kb')!;
    e.clock.advance(20 * 3_600_000);
    // A reset lands between the plan and the reservation.
    const reserve = e.state.quota.reserveExport.bind(e.state.quota);
    e.state.quota.reserveExport = async (...args) => {
      await e.state.watermarks.set(
        'acct',
        'copilot_kb',
        new Date(before.getTime() - 86_400_000),
        e.clock.now(),
      );
      return reserve(...args);
    };
    const s = await runSync(e.deps, { noWait: true });
    expect(s.streams[0]!.note).toMatch(/not requested: the watermark was moved/);
    expect(e.api.calls.submit).toBe(1);
  });
});
