import { describe, expect, it } from 'vitest';
import type { StreamSummary, SyncSummary } from '../../src/run/sync-runner.js';
import { dayMs, engineFixtures, hourMs, minuteMs, streamConfig, yesterday } from './engine-fixture.js';

/**
 * `runSync` in-process, phase by phase: unfinished exports resumed before any quota is spent, a
 * stream the API refuses backed off on its own while the others go on, the quota spent and
 * stopped at, and an orchestrator's window run again. Asserted on the summary, the ledger, the
 * backoffs and the calls the API saw.
 */
describe('runSync, in-process', () => {
  const start = engineFixtures();
  const streamOf = (s: SyncSummary, name: string): StreamSummary => s.streams.find((x) => x.stream === name)!;
  const allStreams = () =>
    ['copilot_kb', 'copilot_as', 'copilot_aq', 'autopilot_gr'].map((n) => streamConfig(n));

  it('resumes an unfinished export before it spends quota on new ones, with no second request for it', async () => {
    const e = await start({ streams: [streamConfig('copilot_aq'), streamConfig('copilot_kb')] });
    const left = await e.submitted(yesterday, 'copilot_aq');
    await e.state.exports.release(left.ledgerId, e.deps.owner);
    const summary = await e.sync();
    expect(summary.exitCode).toBe(0);
    expect(streamOf(summary, 'copilot_aq').exports[0]).toMatchObject({
      ledgerId: left.ledgerId,
      status: 'loaded',
    });
    const firstStatus = e.api.calls.findIndex((c) => c.op === 'status');
    const submits = e.api.calls.flatMap((c, i) => (c.op === 'submit' ? [[c.stream, i] as const] : []));
    expect(submits.map(([s]) => s)).toEqual(['copilot_aq', 'copilot_kb']);
    expect(firstStatus).toBeLessThan(submits[1]![1]);
    expect((await e.ledger()).map((r) => [r.stream, r.status])).toEqual([
      ['copilot_aq', 'loaded'],
      ['copilot_kb', 'loaded'],
    ]);
    expect((await e.ledger()).every((r) => r.claimedBy === null)).toBe(true);
  });

  it("leaves a reservation another live process holds to it, and gives it up once that process's claim expires", async () => {
    const e = await start();
    const rec = await e.reserved();
    const held = await e.sync({ window: yesterday });
    expect(held.exitCode).toBe(75);
    expect(streamOf(held, 'copilot_aq').note).toContain('being worked on by another process (dead-host)');
    expect(e.api.count('submit')).toBe(0);

    e.clock.advance(10 * minuteMs + 1);
    const resumed = await e.sync({ window: yesterday });
    expect(resumed.exitCode).toBe(0);
    expect((await e.ledger()).map((r) => r.status)).toEqual(['failed', 'loaded']);
    expect((await e.record(rec.ledgerId)).countsQuota).toBe(true);
    expect(e.api.count('submit')).toBe(1);
    expect((await e.quota()).used).toBe(2);
  });

  it('does not let a stream the API refuses starve the others: backed off a day, its slot to the next stream', async () => {
    const e = await start({
      streams: [streamConfig('autopilot_gr'), streamConfig('copilot_kb')],
      quota: { perDay: 1, reserveForOthers: 0 },
    });
    // One slot, and the refused stream is the stalest: the scheduler gives it the slot first.
    await e.state.watermarks.set(
      e.account,
      'copilot_kb',
      new Date(e.clock.now().getTime() - dayMs),
      e.clock.now(),
    );
    e.api.answerSubmitsFor('AutopilotKnowledge/GRTable', {
      kind: 'refuse',
      status: 403,
      message: 'namespace not exposed',
    });
    const first = await e.sync();
    expect(first.exitCode).toBe(1);
    expect(streamOf(first, 'copilot_kb').state).toBe('done');
    const gr = streamOf(first, 'autopilot_gr');
    expect(gr.state).toBe('failed');
    expect(gr.backoff).toMatchObject({ reason: 'not_exposed', failures: 1 });
    expect(new Date(gr.backoff!.until)).toEqual(new Date(e.clock.now().getTime() + dayMs));
    expect(e.api.submitAnswers()).toEqual(['autopilot_gr:refuse', 'copilot_kb:accept']);
    expect(first.quota.used).toBe(1);
    const stored = (await e.state.backoffs.byStream(e.account)).get('autopilot_gr');
    expect(stored).toMatchObject({ reason: 'not_exposed', failures: 1 });

    // The next run does not ask for it, and does not fail for it.
    e.clock.advance(hourMs);
    const second = await e.sync();
    expect(second.exitCode).toBe(0);
    expect(streamOf(second, 'autopilot_gr').state).toBe('backing_off');
    expect(e.api.submitAnswers().filter((a) => a.startsWith('autopilot_gr'))).toHaveLength(1);
  });

  it('backs off a stream whose filter the API rejects for an hour, doubling, while the other stream goes on', async () => {
    const kb = streamConfig('copilot_kb', { filters: { Team: ['Nowhere'] } });
    const e = await start({
      streams: [kb, streamConfig('copilot_as')],
      quota: { perDay: 10, reserveForOthers: 0 },
    });
    const refusal = {
      kind: 'refuse',
      status: 400,
      message: 'Invalid value for filter Team: Nowhere',
    } as const;
    e.api.answerSubmitsFor('Copilot/KBTable', refusal, refusal);
    const first = await e.sync();
    expect(first.exitCode).toBe(1);
    const refused = streamOf(first, 'copilot_kb');
    expect(refused.backoff).toMatchObject({ reason: 'refused', failures: 1 });
    expect(new Date(refused.backoff!.until)).toEqual(new Date(e.clock.now().getTime() + hourMs));
    expect(refused.error).toMatch(/Invalid value for filter Team/);
    expect(streamOf(first, 'copilot_as').state).toBe('done');
    expect(first.quota.used).toBe(1);

    e.clock.advance(30 * minuteMs);
    const second = await e.sync();
    expect(second.exitCode).toBe(0);
    expect(streamOf(second, 'copilot_kb').state).toBe('backing_off');
    expect(e.api.submitAnswers().filter((a) => a.startsWith('copilot_kb'))).toHaveLength(1);

    // Past the hour it is asked again; refused again, it waits twice as long.
    e.clock.advance(30 * minuteMs);
    const third = await e.sync({ streams: ['copilot_kb'] });
    expect(e.api.submitAnswers().filter((a) => a.startsWith('copilot_kb'))).toHaveLength(2);
    expect(streamOf(third, 'copilot_kb').backoff).toMatchObject({ reason: 'refused', failures: 2 });
    expect(new Date(streamOf(third, 'copilot_kb').backoff!.until)).toEqual(
      new Date(e.clock.now().getTime() + 2 * hourMs),
    );
  });

  it('backs off a stream whose export fails at the vendor for 12 hours; the other stream is not held up', async () => {
    const e = await start({
      streams: [streamConfig('copilot_aq'), streamConfig('copilot_kb')],
      quota: { perDay: 10, reserveForOthers: 0 },
    });
    e.api.scriptPath('Copilot/AQTable', { statuses: [{ failed: 'job crashed' }] });
    const first = await e.sync();
    expect(first.exitCode).toBe(1);
    const aq = streamOf(first, 'copilot_aq');
    expect(aq.state).toBe('failed');
    expect(aq.backoff).toMatchObject({ reason: 'vendor_failed', failures: 1 });
    expect(new Date(aq.backoff!.until)).toEqual(new Date(e.clock.now().getTime() + 12 * hourMs));
    expect(streamOf(first, 'copilot_kb').state).toBe('done');

    e.clock.advance(hourMs);
    const second = await e.sync();
    expect(second.exitCode).toBe(0);
    expect(streamOf(second, 'copilot_aq').state).toBe('backing_off');
    expect(e.api.submitAnswers().filter((a) => a.startsWith('copilot_aq'))).toHaveLength(1);
  });

  it('stops asking for the run when the API does not take a request (503), counting no quota', async () => {
    const e = await start({ streams: [streamConfig('copilot_aq'), streamConfig('copilot_kb')] });
    e.api.answerSubmits({ kind: 'not-taken' }, { kind: 'not-taken' });
    const r = await e.sync();
    expect(r.exitCode).toBe(1);
    expect(r.quota.used).toBe(0);
    expect(e.api.count('submit')).toBe(1);
    expect(r.streams.map((s) => s.state)).toEqual(['failed', 'failed']);
    expect((await e.ledger()).map((x) => [x.status, x.countsQuota])).toEqual([['failed', false]]);
  });

  it('with four streams due and a quota of 3, sends exactly 3 and defers; a second sync sends none', async () => {
    const e = await start({ streams: allStreams() });
    const first = await e.sync();
    expect(first.exitCode).toBe(75);
    expect(first.exportsRequested).toBe(3);
    expect(e.api.count('submit')).toBe(3);
    expect(first.streams.filter((s) => s.state === 'done')).toHaveLength(3);
    const deferred = first.streams.filter((s) => s.state === 'deferred');
    expect(deferred).toHaveLength(1);
    expect(deferred[0]!.exports).toEqual([]);
    expect(first.quota).toMatchObject({ limit: 3, used: 3 });
    expect(first.nextSlotAt).toEqual(first.quota.nextSlotAt);

    e.clock.advance(hourMs);
    const second = await e.sync();
    expect(second.exitCode).toBe(75);
    expect(second.exportsRequested).toBe(0);
    expect(e.api.count('submit')).toBe(3);
    expect(second.nextSlotAt).toBe(first.nextSlotAt);
    expect((await e.state.watermarks.byStream(e.account)).size).toBe(3);
  });

  it('stops at the API quota error when the real quota is smaller, and sends nothing until the block ends', async () => {
    const e = await start({ streams: allStreams() });
    e.api.answerSubmits({ kind: 'accept' }, { kind: 'quota' });
    const first = await e.sync();
    expect(first.exitCode).toBe(75);
    expect(first.exportsRequested).toBe(1);
    expect(e.api.submitAnswers().map((a) => a.split(':')[1])).toEqual(['accept', 'quota']);
    expect(first.quota.blockedUntil).not.toBeNull();
    expect(new Date(first.nextSlotAt!).getTime()).toBeGreaterThan(e.clock.now().getTime());

    const second = await e.sync();
    expect(second.exitCode).toBe(75);
    expect(second.exportsRequested).toBe(0);
    expect(e.api.count('submit')).toBe(2);
    const failed = (await e.ledger()).filter((r) => r.status === 'failed');
    expect(failed.map((r) => [r.countsQuota, r.error])).toEqual([[false, expect.stringMatching(/quota/)]]);
  });

  it('caps the requests of one run at maxExports', async () => {
    const e = await start({ streams: allStreams(), quota: { perDay: 10, reserveForOthers: 0 } });
    const r = await e.sync({ maxExports: 2 });
    expect(r.exitCode).toBe(75);
    expect(e.api.count('submit')).toBe(2);
    expect(r.streams.filter((s) => s.note === '--max-exports 2 reached')).toHaveLength(2);
  });

  it('does not request an explicit window already loaded again (an orchestrator rerun)', async () => {
    const e = await start();
    const first = await e.sync({ window: yesterday });
    expect(first.exitCode).toBe(0);
    expect(first.rowsLoaded).toBe(5);
    const [loaded] = await e.ledger();
    e.clock.advance(hourMs);
    const again = await e.sync({ window: yesterday });
    expect(again.exitCode).toBe(0);
    expect(again.exportsRequested).toBe(0);
    expect(e.api.count('submit')).toBe(1);
    const s = streamOf(again, 'copilot_aq');
    expect(s.state).toBe('done');
    expect(s.note).toContain(`window already loaded by export ${loaded!.ledgerId}`);
    expect(s.exports).toEqual([expect.objectContaining({ ledgerId: loaded!.ledgerId, status: 'loaded' })]);
    expect(e.destination.loads).toHaveLength(1);
  });
});
