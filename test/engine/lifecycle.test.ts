import { rm, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  DownloadError,
  DownloadRefusedError,
  DownloadUrlExpiredError,
  ExportNotFoundError,
  StoreError,
} from '../../src/errors.js';
import { runSync } from '../../src/run/sync-runner.js';
import { engineHarness } from '../support/engine-harness.js';
import { windowCsv } from '../support/memory-export-api.js';

/**
 * An export's life driven in this process (the in-memory API and destination, a real state
 * store): each branch asserted on the ledger's records, the table and the API's calls.
 */
describe('export lifecycle (in-process)', () => {
  const engine = engineHarness();

  it('requests, polls, downloads and loads a window once; the ledger says so step by step', async () => {
    const e = await engine();
    let pending = 2;
    e.api.onStatus = () => (pending-- > 0 ? { state: 'pending', vendorStatus: 'Processing' } : undefined);
    const summary = await runSync(e.deps);
    expect(summary.exitCode).toBe(0);
    const [r] = await e.records();
    expect(r).toMatchObject({
      status: 'loaded',
      vendorExportId: 'mem-1',
      exportKey: 'mem-1',
      countsQuota: true,
    });
    expect(r!.claimedBy).toBeNull();
    expect(r!.downloadHost).toBe('files.memory');
    expect(r!.rows).toBe(e.destination.tables.get('copilot_kb')!.length);
    expect(r!.rows).toBeGreaterThan(0);
    expect(e.api.calls).toMatchObject({ submit: 1, status: 3, download: 1 });
    expect(summary.streams[0]!.exports[0]).toMatchObject({ ledgerId: r!.ledgerId, vendorExportId: 'mem-1' });
    expect((await e.state.watermarks.byStream('acct')).get('copilot_kb')).toBeInstanceOf(Date);
  });

  it('fetches a cut-off download and an expired URL again through the status, spending no request', async () => {
    const e = await engine();
    e.api.onDownload = (x) =>
      x.downloads === 1
        ? new DownloadError('connection reset mid-body')
        : x.downloads === 2
          ? new DownloadUrlExpiredError('403 on the signed URL')
          : undefined;
    expect((await runSync(e.deps)).exitCode).toBe(0);
    const [r] = await e.records();
    expect(r).toMatchObject({ status: 'loaded', attempts: 2 });
    expect(e.api.calls.submit).toBe(1);
    expect(e.api.calls.download).toBe(3);
    expect(e.api.calls.status).toBe(3);
  });

  it('refetches a malformed file, and backs off (keeping the export) once the attempts are spent', async () => {
    const e = await engine();
    e.api.onDownload = () => 'Id,"unterminated\r\n';
    const first = await runSync(e.deps);
    expect(first.exitCode).toBe(1);
    const [r] = await e.records();
    // Kept, not written off: the vendor made it; no second request for its window.
    expect(r).toMatchObject({ status: 'submitted', attempts: 0, failures: 1 });
    expect(r!.nextAttemptAt!.getTime()).toBeGreaterThan(e.clock.now().getTime());
    expect(r!.error).toMatch(/download failed 6 times/);
    expect(e.api.calls.submit).toBe(1);
    expect(e.api.calls.download).toBe(6);
    // In backoff: the next sync leaves it alone and requests nothing for its stream.
    const second = await runSync(e.deps);
    expect(second.streams[0]!.error).toMatch(/not tried again before/);
    expect(e.api.calls).toMatchObject({ submit: 1, download: 6 });
  });

  it('fails for good a download the vendor refuses, without a second request', async () => {
    const e = await engine();
    e.api.onDownload = () => new DownloadRefusedError('410 Gone for good');
    const s = await runSync(e.deps);
    expect(s.exitCode).toBe(1);
    expect(await e.records()).toMatchObject([
      { status: 'failed', retryable: false, error: '410 Gone for good' },
    ]);
  });

  it('treats a 404 right after the request as not visible yet, and one past the grace as forgotten (backed off)', async () => {
    const e = await engine();
    e.api.onStatus = (x) => (x.polls === 1 ? new ExportNotFoundError('404') : undefined);
    expect((await runSync(e.deps)).exitCode).toBe(0);
    expect((await e.records())[0]!.status).toBe('loaded');

    const f = await engine();
    // Still unknown three minutes after the answer: past the grace.
    f.api.onStatus = () => {
      f.clock.advance(3 * 60_000);
      return new ExportNotFoundError('404');
    };
    const s = await runSync(f.deps);
    expect(s.exitCode).toBe(1);
    const [r] = await f.records();
    expect(r).toMatchObject({ status: 'submitted', failures: 1 });
    expect(r!.error).toMatch(/no longer knows export mem-1 .*exports abandon/);
    expect(r!.nextAttemptAt).not.toBeNull();
  });

  it('records a failure the vendor reports: the slot is spent, the stream backs off', async () => {
    const e = await engine();
    e.api.onStatus = () => ({ state: 'failed', vendorStatus: 'Failed', message: 'internal' });
    const s = await runSync(e.deps);
    expect(s.exitCode).toBe(1);
    expect(await e.records()).toMatchObject([{ status: 'failed', countsQuota: true, retryable: true }]);
    expect(s.streams[0]!.backoff).toMatchObject({ reason: 'vendor_failed', failures: 1 });
  });

  it('keeps a downloaded file the destination could not take, and loads it at the next sync without a request', async () => {
    const e = await engine();
    e.destination.failNextLoad = new StoreError('the destination dropped the connection');
    const first = await runSync(e.deps);
    expect(first.exitCode).toBe(1);
    expect(await e.records()).toMatchObject([{ status: 'downloaded', failures: 1, nextAttemptAt: null }]);
    expect(e.destination.tables.get('copilot_kb')).toEqual([]);
    const second = await runSync(e.deps);
    expect(second.exitCode).toBe(0);
    expect(await e.records()).toMatchObject([{ status: 'loaded', error: null }]);
    expect(e.api.calls).toMatchObject({ submit: 1, download: 1 });
  });

  it('keeps an export whose rows the schema refuses, downloaded and backed off, with the way out', async () => {
    const e = await engine({
      streams: { copilot_kb: { start: '2026-11-18T00:00:00Z', maxRejectedRatio: 0 } },
    });
    e.api.onDownload = (x) => windowCsv(x.request).replace(/\r\n(\d{4}-\d\d-\d\d) /, '\r\nnot-a-time ');
    const s = await runSync(e.deps);
    expect(s.exitCode).toBe(1);
    const [r] = await e.records();
    expect(r).toMatchObject({ status: 'downloaded', failures: 1 });
    expect(r!.error).toMatch(/rejected, above maxRejectedRatio 0.*replay --export/);
    expect(e.destination.tables.get('copilot_kb')).toEqual([]);
    expect(await e.state.watermarks.byStream('acct')).toEqual(new Map());
  });

  it('resumes each unfinished status: a reservation never answered is given up, a lost archive is fetched again', async () => {
    const e = await engine();
    e.api.onStatus = () => ({ state: 'pending', vendorStatus: 'Processing' });
    e.deps.poll.budgetMs = 0;
    const first = await runSync({ ...e.deps, poll: { intervalMs: 1, maxIntervalMs: 1, budgetMs: 0 } });
    expect(first.exitCode).toBe(75);
    expect((await e.records())[0]!.status).toBe('submitted');
    // Ready and downloaded next time; then its archived file is lost before the load.
    e.api.onStatus = () => undefined;
    e.destination.failNextLoad = new StoreError('down');
    await runSync(e.deps);
    const [kept] = await e.records();
    expect(kept!.status).toBe('downloaded');
    await rm(kept!.archivePath!);
    e.clock.advance(60 * 60_000);
    expect((await runSync(e.deps)).exitCode).toBe(0);
    expect(await e.records()).toMatchObject([{ status: 'loaded', ledgerId: kept!.ledgerId }]);
    expect(e.api.calls).toMatchObject({ submit: 1, download: 2 });

    // A reservation whose process died before the answer: given up, counted, its window due again.
    const g = await engine();
    const submit = g.api.submit.bind(g.api);
    g.api.submit = async () => {
      throw Object.assign(new Error('killed'), { killed: true });
    };
    await runSync(g.deps).catch(() => {});
    g.api.submit = submit;
    await g.db.query(
      `update cxone_od_sync.exports set status = 'reserved', counts_quota = true, claimed_by = null`,
    );
    const resumed = await runSync(g.deps);
    const records = await g.records();
    expect(records[0]).toMatchObject({ status: 'failed', countsQuota: true, retryable: true });
    expect(records[0]!.error).toMatch(/interrupted before the export request was confirmed/);
    expect(resumed.streams[0]!.exports.map((x) => x.status)).toContain('loaded');
  });

  it('never keeps the signed query of a download URL', async () => {
    const e = await engine();
    await runSync(e.deps);
    const text = JSON.stringify(await e.records());
    expect(text).not.toContain('s3cr3t');
    await writeFile('/dev/null', text);
  });
});
