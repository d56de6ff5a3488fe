import { describe, expect, it } from 'vitest';
import { QuotaExhaustedError, RequestNotSentError } from '../../src/errors.js';
import type { ExportRecord } from '../../src/ports/export-record.js';
import type { SubmitAnswer } from '../support/memory-export-api.js';
import { dayMs, engineFixtures, minuteMs, streamConfig, yesterday } from './engine-fixture.js';

/**
 * `requestExport` in-process: the ledger row and quota slot before the request, and which
 * failures count against the rolling quota (one that may have reached the vendor) and which do not.
 */
describe('export requests and the quota, in-process', () => {
  const start = engineFixtures();
  const twoStreams = { streams: [streamConfig('copilot_aq'), streamConfig('copilot_kb')] };

  it('writes the ledger row, claimed and counted, with its request body and file name before the request is sent', async () => {
    const e = await start();
    let atSubmit: ExportRecord[] = [];
    e.api.onSubmit = async () => {
      atSubmit = await e.ledger();
    };
    const r = await e.request();
    expect(r.kind).toBe('submitted');
    expect(atSubmit).toHaveLength(1);
    expect(atSubmit[0]).toMatchObject({
      status: 'reserved',
      countsQuota: true,
      claimedBy: e.deps.owner,
      vendorExportId: null,
      windowStart: yesterday.start,
      windowEnd: yesterday.end,
    });
    expect(atSubmit[0]!.fileName).toMatch(/^copilot_aq_/);
    expect(atSubmit[0]!.requestBody).toMatchObject({
      stream: 'copilot_aq',
      start: yesterday.start.toISOString(),
    });
    const [row] = await e.ledger();
    expect(row).toMatchObject({ status: 'submitted', vendorExportId: 'mem-1', submittedAt: e.clock.now() });
    expect(await e.quota()).toMatchObject({ used: 1, limit: 3, nextSlotAt: null });
  });

  it('is busy while the stream has an unfinished export, and sends nothing', async () => {
    const e = await start();
    await e.submitted();
    const r = await e.request({ start: yesterday.end, end: new Date(yesterday.end.getTime() + dayMs) });
    expect(r.kind).toBe('busy');
    expect(e.api.count('submit')).toBe(1);
    expect(await e.ledger()).toHaveLength(1);
    expect((await e.quota()).used).toBe(1);
  });

  it('reserves nothing when the watermark the window was planned from has moved (a reset)', async () => {
    const e = await start();
    await e.state.watermarks.set(e.account, 'copilot_aq', yesterday.start, e.clock.now());
    const r = await e.request(yesterday, undefined, yesterday.end);
    expect(r).toMatchObject({ kind: 'moved', note: expect.stringContaining('a reset') });
    expect(e.api.count('submit')).toBe(0);
    expect(await e.ledger()).toEqual([]);
    expect((await e.quota()).used).toBe(0);
  });

  it('stops at the quota, sending nothing, and names when the earliest slot frees', async () => {
    const e = await start({ ...twoStreams, quota: { perDay: 1, reserveForOthers: 0 } });
    const first = await e.submitted(yesterday, 'copilot_aq');
    e.clock.advance(minuteMs);
    const r = await e.request(yesterday, 'copilot_kb');
    if (r.kind !== 'quota') throw new Error(`expected quota, got ${r.kind}`);
    expect(r.vendorBlock).toBeUndefined();
    const frees = new Date(first.submittedAt!.getTime() + dayMs + 250);
    expect(r.error.nextSlotAt).toEqual(frees);
    expect(e.api.count('submit')).toBe(1);
    expect(await e.quota()).toMatchObject({ used: 1, limit: 1, nextSlotAt: frees });
    // The slot frees a day after the first answer, not before.
    e.clock.advance(frees.getTime() - e.clock.now().getTime() - 1);
    expect((await e.request(yesterday, 'copilot_kb')).kind).toBe('quota');
    e.clock.advance(1);
    expect((await e.request(yesterday, 'copilot_kb')).kind).toBe('submitted');
  });

  it('leaves what reserveForOthers keeps free from the first request on', async () => {
    const e = await start({ ...twoStreams, quota: { perDay: 2, reserveForOthers: 1 } });
    expect((await e.request(yesterday, 'copilot_aq')).kind).toBe('submitted');
    expect((await e.request(yesterday, 'copilot_kb')).kind).toBe('quota');
    expect(await e.quota()).toMatchObject({ limit: 1, used: 1, reserved: 1 });
  });

  const free: { name: string; answer: SubmitAnswer; notSent: boolean; error: RegExp }[] = [
    {
      name: 'refused (400)',
      answer: { kind: 'refuse', status: 400, message: 'bad filter' },
      notSent: false,
      error: /400: bad filter/,
    },
    { name: 'refused (403)', answer: { kind: 'refuse', status: 403 }, notSent: false, error: /403/ },
    { name: 'not taken (503)', answer: { kind: 'not-taken' }, notSent: true, error: /no quota is counted/ },
    {
      name: 'never sent',
      answer: { kind: 'not-sent' },
      notSent: true,
      error: /not sent, so no quota is counted/,
    },
  ];

  it.each(free)('counts no quota for a request $name', async ({ answer, notSent, error }) => {
    const e = await start();
    e.api.answerSubmits(answer);
    const r = await e.request();
    if (r.kind !== 'failed') throw new Error(`expected failed, got ${r.kind}`);
    expect(Boolean(r.notSent)).toBe(notSent);
    expect(r.error).toMatch(error);
    expect(r.record).toMatchObject({ status: 'failed', countsQuota: false, claimedBy: null });
    expect(await e.quota()).toMatchObject({ used: 0, nextSlotAt: null });
    expect(e.api.count('submit')).toBe(1);
  });

  it.each([502, 504])(
    'counts an unconfirmed request (%i: it may have been created) and never sends it again',
    async (status) => {
      const e = await start();
      e.api.answerSubmits({ kind: 'unconfirmed', status });
      const r = await e.request();
      if (r.kind !== 'failed') throw new Error(`expected failed, got ${r.kind}`);
      expect(r.notSent).toBe(false);
      expect(r.record).toMatchObject({ status: 'failed', countsQuota: true, retryable: true });
      expect(e.api.count('submit')).toBe(1);
      expect([...e.api.exports.values()].map((x) => x.confirmed)).toEqual([false]);
      expect((await e.quota()).used).toBe(1);
    },
  );

  it('reserves nothing when no token can be had', async () => {
    const e = await start();
    e.api.failAuthorize(new RequestNotSentError('token endpoint: connect ECONNREFUSED (not sent)'));
    const r = await e.request();
    expect(r).toMatchObject({
      kind: 'failed',
      notSent: true,
      error: expect.stringContaining('no quota spent'),
    });
    expect(await e.ledger()).toEqual([]);
    expect(e.api.count('submit')).toBe(0);
    expect((await e.quota()).used).toBe(0);
  });

  it("records the vendor's quota refusal: not counted, others' use learned, nothing sent until the block ends", async () => {
    const e = await start(twoStreams);
    e.api.answerSubmits({ kind: 'quota' });
    const r = await e.request(yesterday, 'copilot_aq');
    if (r.kind !== 'quota') throw new Error(`expected quota, got ${r.kind}`);
    expect(r.vendorBlock).toBe(true);
    expect(r.error).toBeInstanceOf(QuotaExhaustedError);
    const blockedUntil = new Date(e.clock.now().getTime() + 15 * minuteMs);
    expect(r.error.nextSlotAt).toEqual(blockedUntil);
    expect(r.error.message).toMatch(/someone else .* holds 2 of the 3 exports per 24 h/);
    expect((await e.ledger()).map((x) => [x.status, x.countsQuota])).toEqual([['failed', false]]);
    expect(await e.quota()).toMatchObject({
      used: 0,
      limit: 1,
      reserved: 2,
      blockedUntil,
      othersSeen: { slots: 2, until: new Date(e.clock.now().getTime() + 10 * dayMs) },
    });

    // Blocked: the next request is not sent.
    const blocked = await e.request(yesterday, 'copilot_kb');
    expect(blocked).toMatchObject({ kind: 'quota', vendorBlock: true });
    expect(e.api.count('submit')).toBe(1);

    // Past the block one request goes (the limit others leave), then the count stops it.
    e.clock.advance(15 * minuteMs);
    expect((await e.request(yesterday, 'copilot_kb')).kind).toBe('submitted');
    const after = await e.request(yesterday, 'copilot_aq');
    expect(after).toMatchObject({ kind: 'quota' });
    expect(after.kind === 'quota' && after.vendorBlock).toBeFalsy();
    expect(e.api.count('submit')).toBe(2);
    // Forgetting the block gives the whole quota back.
    expect(await e.state.quota.forget(e.account)).toBe(true);
    expect(await e.quota()).toMatchObject({ limit: 3, reserved: 0, othersSeen: null, blockedUntil: null });
  });
});
