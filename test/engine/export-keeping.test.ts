import { access, mkdir, rm, symlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DownloadRefusedError,
  ExportFailedError,
  LocalStorageError,
  SchemaError,
  StoreError,
  VendorExportFailedError,
} from '../../src/errors.js';
import type { DriveOutcome } from '../../src/export/export-lifecycle.js';
import { archivePath } from '../../src/export/export-lifecycle.js';
import { abandon } from '../../src/ledger/export-transitions.js';
import { csvFor, engineFixtures, malformedCsv, minuteMs, yesterday } from './engine-fixture.js';

/**
 * An export the vendor made is kept through what would otherwise write it off: downloads that keep
 * failing, a vendor that forgets it, a file the schema refuses, a destination that is down, a full
 * disk. Each is backed off (or kept with the fix) and never costs a second export request.
 */
describe('keeping exports, in-process', () => {
  const start = engineFixtures();
  const window = yesterday;
  const explicit = { window };

  function failed(outcome: DriveOutcome) {
    if (outcome.kind !== 'failed') throw new Error(`expected a failure, got ${outcome.kind}`);
    return outcome;
  }

  it.each([
    { name: 'cut off', step: 'cut-off' as const },
    { name: 'malformed', step: { body: 'Question Time,Contact ID\r\n"never closed\r\n' } },
  ])(
    'keeps an export whose download keeps arriving $name: six attempts, then backed off, not failed',
    async ({ step }) => {
      const e = await start();
      e.api.scriptPath('Copilot/AQTable', { downloads: [step] });
      const rec = await e.submitted();
      const outcome = failed(await e.drive(rec));
      expect(outcome.error).toBeInstanceOf(DownloadRefusedError);
      expect(outcome.retryable).toBe(true);
      expect(e.api.count('download')).toBe(6);
      const kept = await e.record(rec.ledgerId);
      expect(kept).toMatchObject({ status: 'submitted', attempts: 0, failures: 1 });
      expect(kept.nextAttemptAt).toEqual(new Date(e.clock.now().getTime() + 5 * minuteMs));
      expect(kept.error).toContain(`exports abandon ${rec.ledgerId}`);

      // In backoff: a sync leaves it alone and requests nothing new for its stream.
      const skipped = await e.sync(explicit);
      expect(skipped.exitCode).toBe(1);
      expect(skipped.streams[0]!.error).toContain(`exports retry ${rec.ledgerId}`);
      expect(e.api.count('download')).toBe(6);
      expect(e.api.count('submit')).toBe(1);

      // Once the backoff has run and the vendor sends whole files, it loads with no new request.
      e.clock.advance(5 * minuteMs);
      e.api.export(rec.vendorExportId!).script = {};
      const fixed = await e.sync(explicit);
      expect(fixed.exitCode).toBe(0);
      expect(e.api.count('submit')).toBe(1);
      expect((await e.ledger()).map((r) => r.status)).toEqual(['loaded']);
      expect(e.destination.rows('copilot_aq')).toHaveLength(5);
    },
  );

  it('backs off an export the API no longer knows (404 past the grace), and requests its window again once abandoned', async () => {
    const e = await start();
    const rec = await e.submitted();
    e.clock.advance(10 * minuteMs);
    e.api.export(rec.vendorExportId!).script = { statuses: ['not-found'] };
    const outcome = failed(await e.drive(rec));
    expect(outcome.error).toBeInstanceOf(ExportFailedError);
    expect(outcome.retryable).toBe(false);
    let row = await e.record(rec.ledgerId);
    expect(row).toMatchObject({ status: 'submitted', failures: 1 });
    expect(row.nextAttemptAt).toEqual(new Date(e.clock.now().getTime() + 5 * minuteMs));
    expect(row.error).toContain('no longer knows');
    expect(row.error).toContain(`exports abandon ${rec.ledgerId}`);

    const statusBefore = e.api.count('status');
    const skipped = await e.sync(explicit);
    expect(skipped.exitCode).toBe(1);
    expect(skipped.streams[0]!.error).toContain(`exports abandon ${rec.ledgerId}`);
    expect(e.api.count('status')).toBe(statusBefore);
    expect(e.api.count('submit')).toBe(1);

    row = await e.state.exports.write(rec.ledgerId, abandon(row, 'vendor lost it'), e.clock.now());
    expect(row).toMatchObject({ status: 'failed', retryable: false });
    const again = await e.sync(explicit);
    expect(again.exitCode).toBe(0);
    expect(e.api.count('submit')).toBe(2);
    expect((await e.ledger()).map((r) => r.status)).toEqual(['failed', 'loaded']);
    expect((await e.quota()).used).toBe(2);
  });

  it('records an export the vendor reports failed: its slot spent, the window due again', async () => {
    const e = await start();
    e.api.scriptPath('Copilot/AQTable', { statuses: ['pending', { failed: 'the export job crashed' }] });
    const rec = await e.submitted();
    const outcome = failed(await e.drive(rec));
    expect(outcome.error).toBeInstanceOf(VendorExportFailedError);
    expect(outcome.retryable).toBe(true);
    const row = await e.record(rec.ledgerId);
    expect(row).toMatchObject({ status: 'failed', retryable: true, countsQuota: true });
    expect(row.error).toContain('the export job crashed');
    expect(e.api.count('download')).toBe(0);
    expect((await e.quota()).used).toBe(1);
    expect(await e.state.exports.unfinished(e.account, ['copilot_aq'])).toEqual([]);
  });

  it('fails an export whose download the vendor refuses for good', async () => {
    const e = await start();
    e.api.scriptPath('Copilot/AQTable', { downloads: ['refused'] });
    const rec = await e.submitted();
    const outcome = failed(await e.drive(rec));
    expect(outcome.retryable).toBe(false);
    expect(await e.record(rec.ledgerId)).toMatchObject({ status: 'failed', retryable: false });
    expect(e.api.count('download')).toBe(1);
  });

  it('keeps an export whose rows the schema refuses: downloaded with its file, backed off, the way out in the error', async () => {
    const e = await start();
    e.api.scriptPath('Copilot/AQTable', { body: csvFor(e.stream().schema, window, 5, 2) });
    const rec = await e.submitted();
    const outcome = failed(await e.drive(rec));
    expect(outcome.error).toBeInstanceOf(SchemaError);
    expect(outcome.retryable).toBe(false);
    expect(outcome.error.message).toContain(`replay --export ${rec.ledgerId}`);
    expect(outcome.error.message).toContain(`exports abandon ${rec.ledgerId}`);
    const kept = await e.record(rec.ledgerId);
    expect(kept).toMatchObject({ status: 'downloaded', failures: 1, rows: null });
    expect(kept.nextAttemptAt).toEqual(new Date(e.clock.now().getTime() + 5 * minuteMs));
    expect(kept.error).toContain(`replay --export ${rec.ledgerId}`);
    await access(kept.archivePath!);
    expect(e.destination.rows('copilot_aq')).toEqual([]);
    expect(e.destination.loads.map((l) => l.outcome)).toEqual(['abandoned']);
    expect(await e.watermark()).toBeUndefined();

    const second = await e.sync(explicit);
    expect(second.exitCode).toBe(1);
    expect(e.api.count('submit')).toBe(1);
    expect((await e.record(rec.ledgerId)).status).toBe('downloaded');
  });

  it('keeps the file of an export the destination could not take, backs it off from the second failure, and loads it later', async () => {
    const e = await start();
    e.destination.failNextLoad();
    const rec = await e.submitted();
    const first = failed(await e.drive(rec));
    expect(first.error).toBeInstanceOf(StoreError);
    expect(first.retryable).toBe(true);
    let row = await e.record(rec.ledgerId);
    expect(row).toMatchObject({ status: 'downloaded', failures: 1, nextAttemptAt: null });
    await access(row.archivePath!);

    e.destination.failNextLoad();
    failed(await e.drive(row));
    row = await e.record(rec.ledgerId);
    expect(row.failures).toBe(2);
    expect(row.nextAttemptAt).toEqual(new Date(e.clock.now().getTime() + 5 * minuteMs));

    e.clock.advance(5 * minuteMs);
    const fixed = await e.sync(explicit);
    expect(fixed.exitCode).toBe(0);
    expect((await e.record(rec.ledgerId)).status).toBe('loaded');
    expect(e.api.count('download')).toBe(1);
    expect(e.api.count('submit')).toBe(1);
    expect(e.destination.loads.map((l) => l.outcome)).toEqual(['failed', 'failed', 'loaded']);
  });

  it('keeps an export whose download hits a full disk, no attempt spent, and loads it after the fix', async () => {
    const e = await start();
    const rec = await e.submitted();
    // /dev/full answers every write with ENOSPC: the archive's disk is full for this file.
    const part = `${archivePath(e.archiveDir, rec)}.part`;
    await mkdir(dirname(part), { recursive: true });
    await symlink('/dev/full', part);
    const outcome = failed(await e.drive(rec));
    expect(outcome.error).toBeInstanceOf(LocalStorageError);
    expect(outcome.retryable).toBe(true);
    const kept = await e.record(rec.ledgerId);
    expect(kept).toMatchObject({ status: 'ready', attempts: 0, failures: 0 });
    expect(kept.error).toContain('ENOSPC');
    expect(kept.error).toContain('archive.dir');

    await rm(part);
    const fixed = await e.drive(kept);
    expect(fixed.kind).toBe('loaded');
    expect(e.api.count('submit')).toBe(1);
  });

  it('requests nothing for a stream while its export is kept: the malformed file is not a reason to ask again', async () => {
    const e = await start();
    e.api.scriptPath('Copilot/AQTable', { downloads: [{ body: malformedCsv(e.stream().schema, window) }] });
    const first = await e.sync(explicit);
    expect(first.exitCode).toBe(1);
    expect((await e.ledger()).map((r) => [r.status, r.failures])).toEqual([['submitted', 1]]);
    e.clock.advance(4 * minuteMs);
    const second = await e.sync(explicit);
    expect(second.exitCode).toBe(1);
    expect(e.api.count('submit')).toBe(1);
  });
});
