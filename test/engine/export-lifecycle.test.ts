import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { archivePath, driveExport } from '../../src/export/export-lifecycle.js';
import { markReady, recordDownload } from '../../src/ledger/export-transitions.js';
import type { ExportRecord } from '../../src/ports/export-record.js';
import { csvFor, type Engine, engineFixtures, malformedCsv, yesterday } from './engine-fixture.js';

/**
 * An export's life driven in-process (`driveExport`), resumed from every status a process can die
 * in, and through the download faults that fetch the file again via the status endpoint: never a
 * second export request.
 */
describe('export lifecycle, in-process', () => {
  const start = engineFixtures();

  /** The export as a process left it when it died right after recording `ready`. */
  async function ready(e: Engine): Promise<ExportRecord> {
    const rec = await e.submitted();
    const now = e.clock.now();
    return e.state.exports.write(rec.ledgerId, markReady(rec, 'files.example.test', now), now);
  }

  /** The export as a process left it when it died in the middle of the load: its file archived whole. */
  async function downloaded(e: Engine): Promise<ExportRecord> {
    const rec = await ready(e);
    const path = archivePath(e.archiveDir, rec);
    const body = csvFor(e.stream().schema, yesterday);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body);
    const sha256 = createHash('sha256').update(body).digest('hex');
    const now = e.clock.now();
    return e.state.exports.write(
      rec.ledgerId,
      recordDownload(rec, { archivePath: path, bytes: Buffer.byteLength(body), sha256 }, now),
      now,
    );
  }

  /** What a loaded export left: its record, the rows, the calls, the quota. */
  async function expectLoadedOnce(e: Engine, ledgerId: string, rows = 5) {
    const rec = await e.record(ledgerId);
    expect(rec).toMatchObject({ status: 'loaded', rows, rejectedRows: 0, error: null, claimedBy: null });
    expect(e.api.count('submit')).toBe(1);
    const table = e.destination.rows('copilot_aq');
    expect(table).toHaveLength(rows);
    expect(new Set(table.map((r) => r.exportKey))).toEqual(new Set([rec.vendorExportId]));
    expect((await e.quota()).used).toBe(1);
    return rec;
  }

  it('gives up a reservation whose process died before the answer: counted, the window free again', async () => {
    const e = await start();
    const rec = await e.reserved();
    const outcome = await e.drive(rec);
    expect(outcome.kind).toBe('abandoned');
    expect(await e.record(rec.ledgerId)).toMatchObject({
      status: 'failed',
      countsQuota: true,
      retryable: true,
      vendorExportId: null,
    });
    expect(e.api.calls).toEqual([]);
    expect((await e.quota()).used).toBe(1);
    // The window can be requested again: no unfinished export holds the stream.
    expect((await e.request()).kind).toBe('submitted');
  });

  it('resumes a submitted export: polls until done, downloads and loads it, with no second request', async () => {
    const e = await start();
    e.api.scriptPath('Copilot/AQTable', { statuses: ['pending', 'pending', 'done'] });
    const rec = await e.submitted();
    expect(rec.status).toBe('submitted');
    const outcome = await e.drive(await e.record(rec.ledgerId));
    expect(outcome.kind).toBe('loaded');
    expect(e.api.count('status')).toBe(3);
    expect(e.api.count('download')).toBe(1);
    const loaded = await expectLoadedOnce(e, rec.ledgerId);
    expect(loaded.attempts).toBe(0);
    expect(await e.watermark()).toEqual(yesterday.end);
  });

  it('leaves an export still processing past the poll budget in flight, as it was', async () => {
    const e = await start();
    e.api.scriptPath('Copilot/AQTable', { statuses: ['pending'] });
    const rec = await e.submitted();
    const outcome = await driveExport(rec, e.stream(), {
      ...e.deps,
      poll: { intervalMs: 1, maxIntervalMs: 1, budgetMs: 0 },
    });
    expect(outcome.kind).toBe('in_flight');
    expect(await e.record(rec.ledgerId)).toMatchObject({ status: 'submitted', error: null, failures: 0 });
    expect(e.api.count('status')).toBe(1);
    expect(e.api.count('download')).toBe(0);
  });

  it('polls on the injected clock: a 10-minute budget of growing intervals passes in no real time', async () => {
    const e = await start();
    e.api.scriptPath('Copilot/AQTable', { statuses: ['pending'] });
    const rec = await e.submitted();
    const before = e.clock.now().getTime();
    const outcome = await driveExport(rec, e.stream(), {
      ...e.deps,
      poll: { intervalMs: 5_000, maxIntervalMs: 60_000, budgetMs: 600_000 },
    });
    expect(outcome.kind).toBe('in_flight');
    // Polls at 0, 5, 12.5, 23.75, 40.6, 65.9, 103.9, 160.9 s, then every 60 s to 580.9 s; the
    // next wait would end past the 600 s budget.
    expect(e.clock.now().getTime() - before).toBe(580_863);
    expect(e.api.count('status')).toBe(15);
    expect(await e.record(rec.ledgerId)).toMatchObject({ status: 'submitted', failures: 0 });
  });

  it('resumes a ready export: asks the status for a fresh URL (none is kept), downloads and loads it', async () => {
    const e = await start();
    const rec = await ready(e);
    const outcome = await e.drive(rec);
    expect(outcome.kind).toBe('loaded');
    expect(e.api.count('status')).toBe(1);
    expect(e.api.count('download')).toBe(1);
    await expectLoadedOnce(e, rec.ledgerId);
  });

  it('resumes a downloaded export: loads its archived file, calling no API', async () => {
    const e = await start();
    const rec = await downloaded(e);
    const outcome = await e.drive(rec);
    expect(outcome.kind).toBe('loaded');
    expect(e.api.count('status')).toBe(0);
    expect(e.api.count('download')).toBe(0);
    await expectLoadedOnce(e, rec.ledgerId);
  });

  const archiveFaults: { name: string; spoil: (path: string) => Promise<void> }[] = [
    { name: 'lost with its disk', spoil: (path) => rm(path) },
    { name: 'truncated', spoil: (path) => truncate(path, 40) },
    {
      name: 'altered in place (same size, another sha256)',
      spoil: async (path) => {
        const text = await readFile(path, 'utf8');
        await writeFile(path, text.replace('v0', 'w0'));
      },
    },
  ];

  it.each(archiveFaults)(
    'downloads an archived file $name again through the status, no attempt spent, no second request',
    async ({ spoil }) => {
      const e = await start();
      const rec = await downloaded(e);
      await spoil(rec.archivePath!);
      const outcome = await e.drive(rec);
      expect(outcome.kind).toBe('loaded');
      expect(e.api.count('status')).toBe(1);
      expect(e.api.count('download')).toBe(1);
      const loaded = await expectLoadedOnce(e, rec.ledgerId);
      expect(loaded.attempts).toBe(0);
      expect(loaded.sha256).toBe(
        createHash('sha256')
          .update(await readFile(loaded.archivePath!))
          .digest('hex'),
      );
    },
  );

  it('fetches a download cut off mid-body again via the status: one attempt spent, nothing of it kept', async () => {
    const e = await start();
    e.api.scriptPath('Copilot/AQTable', { downloads: ['cut-off', 'whole'] });
    const rec = await e.submitted();
    const outcome = await e.drive(rec);
    expect(outcome.kind).toBe('loaded');
    expect(e.api.count('status')).toBe(2);
    expect(e.api.count('download')).toBe(2);
    expect((await expectLoadedOnce(e, rec.ledgerId)).attempts).toBe(1);
    expect(e.destination.loads.map((l) => l.outcome)).toEqual(['loaded']);
    const files = await readdir(join(e.archiveDir, 'copilot_aq'));
    expect(files.filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('asks the status for a fresh URL when the download URL has expired, each expiry an attempt', async () => {
    const e = await start();
    e.api.scriptPath('Copilot/AQTable', { downloads: ['expired', 'expired', 'whole'] });
    const rec = await e.submitted();
    const outcome = await e.drive(rec);
    expect(outcome.kind).toBe('loaded');
    expect(e.api.count('status')).toBe(3);
    expect(new Set(e.api.downloadUrls).size).toBe(3);
    const loaded = await expectLoadedOnce(e, rec.ledgerId);
    expect(loaded.attempts).toBe(2);
    // Only the host is kept: the URL's query is a signature.
    expect(loaded.downloadHost).toBe('files.example.test');
    const ledger = JSON.stringify(await e.ledger());
    for (const url of e.api.downloadUrls) expect(ledger).not.toContain(new URL(url).search.slice(1));
  });

  it('fetches a malformed file again via the status: the file dropped, one attempt spent, nothing of it loaded', async () => {
    const e = await start();
    const bad = malformedCsv(e.stream().schema, yesterday);
    e.api.scriptPath('Copilot/AQTable', { downloads: [{ body: bad }, 'whole'] });
    const rec = await e.submitted();
    const outcome = await e.drive(rec);
    expect(outcome.kind).toBe('loaded');
    expect(e.api.count('download')).toBe(2);
    const loaded = await expectLoadedOnce(e, rec.ledgerId);
    expect(loaded.attempts).toBe(1);
    expect(loaded.bytes).toBe(Buffer.byteLength(csvFor(e.stream().schema, yesterday)));
  });

  it('treats a 404 from the status right after the request as not visible yet', async () => {
    const e = await start();
    e.api.scriptPath('Copilot/AQTable', { statuses: ['not-found', 'not-found', 'done'] });
    const rec = await e.submitted();
    const outcome = await e.drive(rec);
    expect(outcome.kind).toBe('loaded');
    expect(e.api.count('status')).toBe(3);
    await expectLoadedOnce(e, rec.ledgerId);
  });

  it('loads nothing twice: a loaded export driven again is left as it is', async () => {
    const e = await start();
    const rec = await e.submitted();
    expect((await e.drive(rec)).kind).toBe('loaded');
    const loaded = await e.record(rec.ledgerId);
    const again = await e.drive(loaded);
    expect(again.kind).toBe('failed');
    expect(e.destination.loads).toHaveLength(1);
    expect(await e.record(rec.ledgerId)).toEqual(loaded);
  });
});
