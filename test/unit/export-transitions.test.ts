import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  abandon,
  abandonUnconfirmed,
  archivePruned,
  backOff,
  ExportTransitionError,
  fail,
  localFileCopied,
  markLoaded,
  markReady,
  recordDownload,
  recordFromJournal,
  recordLocalFile,
  recordSubmitted,
  requestFailed,
  requeueDownload,
  reserve,
  retry,
  vendorFailed,
} from '../../src/ledger/export-transitions.js';
import type { ExportPatch, ExportRecord, ExportStatus } from '../../src/ports/export-record.js';

const now = new Date('2026-11-20T10:00:00Z');
const statuses: readonly ExportStatus[] = [
  'reserved',
  'submitted',
  'ready',
  'downloaded',
  'loaded',
  'failed',
];

function record(status: ExportStatus, over: Partial<ExportRecord> = {}): ExportRecord {
  return {
    ledgerId: '7',
    account: 'acct',
    stream: 'copilot_kb',
    apiPath: 'Copilot/KBTable',
    windowStart: new Date('2026-11-19T00:00:00Z'),
    windowEnd: new Date('2026-11-20T00:00:00Z'),
    timeZone: 'UTC',
    requestBody: {},
    status,
    countsQuota: true,
    reservedAt: now,
    submittedAt: now,
    vendorExportId: 'v-7',
    statusUrl: 'https://api.example/status/v-7',
    fileName: 'f',
    readyAt: null,
    downloadHost: null,
    archivePath: '/archive/copilot_kb/7-f.csv',
    bytes: 10,
    sha256: 'ab',
    downloadedAt: null,
    rows: null,
    rejectedRows: null,
    loadedAt: null,
    error: 'earlier',
    retryable: null,
    attempts: 2,
    failures: 1,
    nextAttemptAt: null,
    claimedBy: 'host:1:x',
    claimExpiresAt: null,
    updatedAt: now,
    exportKey: 'v-7',
    ...over,
  };
}

const answer = { vendorExportId: 'v-8', statusUrl: 'https://api.example/status/v-8', submittedAt: now };
const file = { archivePath: '/archive/a.csv', bytes: 3, sha256: 'cd' };

/** Each transition that checks where it leaves from: the statuses it leaves, and the status it writes. */
const table: {
  name: string;
  run: (r: ExportRecord) => ExportPatch;
  from: readonly ExportStatus[];
  to: ExportStatus | undefined;
}[] = [
  { name: 'recordSubmitted', run: (r) => recordSubmitted(r, answer), from: ['reserved'], to: 'submitted' },
  {
    name: 'recordFromJournal',
    run: (r) => recordFromJournal(r, answer),
    from: ['reserved', 'failed'],
    to: 'submitted',
  },
  {
    name: 'requestFailed',
    run: (r) => requestFailed(r, { error: 'x', countsQuota: false, retryable: true }),
    from: ['reserved'],
    to: 'failed',
  },
  { name: 'abandonUnconfirmed', run: abandonUnconfirmed, from: ['reserved'], to: 'failed' },
  {
    name: 'markReady',
    run: (r) => markReady(r, 'files.example', now),
    from: ['submitted', 'ready'],
    to: 'ready',
  },
  { name: 'vendorFailed', run: (r) => vendorFailed(r, 'x'), from: ['submitted', 'ready'], to: 'failed' },
  { name: 'recordDownload', run: (r) => recordDownload(r, file, now), from: ['ready'], to: 'downloaded' },
  {
    name: 'requeueDownload',
    run: (r) => requeueDownload(r, 'cut off', { attemptSpent: true, dropFile: false }),
    from: ['submitted', 'ready', 'downloaded'],
    to: 'submitted',
  },
  { name: 'fail', run: (r) => fail(r, 'x'), from: ['submitted', 'ready', 'downloaded'], to: 'failed' },
  {
    name: 'markLoaded',
    run: (r) => markLoaded(r, { rows: 4, rejectedRows: 1 }, now),
    from: ['downloaded', 'loaded'],
    to: 'loaded',
  },
  { name: 'localFileCopied', run: (r) => localFileCopied(r, file, now), from: ['downloaded'], to: undefined },
  { name: 'archivePruned', run: archivePruned, from: ['loaded'], to: undefined },
];

describe('export transitions', () => {
  describe.each(table)('$name', ({ run, from, to }) => {
    it.each(statuses)('from %s', (status) => {
      if (from.includes(status)) expect(run(record(status)).status).toBe(to);
      else expect(() => run(record(status))).toThrow(ExportTransitionError);
    });
  });

  it('reserves a new export counting quota, and records a file loaded by hand as downloaded counting none', () => {
    const request = {
      account: 'acct',
      stream: 'copilot_kb',
      apiPath: 'Copilot/KBTable',
      windowStart: now,
      windowEnd: now,
      timeZone: 'UTC',
      requestBody: '{}',
      fileName: 'f',
    };
    expect(reserve(request, now)).toMatchObject({ status: 'reserved', countsQuota: true, reservedAt: now });
    expect(recordLocalFile(request, now)).toMatchObject({ status: 'downloaded', countsQuota: false });
  });

  it('frees the claim when a request fails or a load commits, and keeps it otherwise', () => {
    expect(
      requestFailed(record('reserved'), { error: 'x', countsQuota: true, retryable: true }),
    ).toMatchObject({
      claimedBy: null,
      claimExpiresAt: null,
    });
    expect(markLoaded(record('downloaded'), { rows: 1, rejectedRows: 0 }, now)).toMatchObject({
      claimedBy: null,
      error: null,
      loadedAt: now,
    });
    expect(recordSubmitted(record('reserved'), answer)).not.toHaveProperty('claimedBy');
  });

  it('spends a download attempt and drops the file only when asked', () => {
    const spent = requeueDownload(record('downloaded'), 'malformed', { attemptSpent: true, dropFile: true });
    expect(spent).toMatchObject({ attempts: 3, archivePath: null, bytes: null, sha256: null });
    const kept = requeueDownload(record('ready'), 'lost', { attemptSpent: false, dropFile: false });
    expect(kept).not.toHaveProperty('attempts');
    expect(kept).not.toHaveProperty('archivePath');
    expect(recordDownload(record('ready', { failures: 4 }), file, now)).toMatchObject({
      failures: 0,
      nextAttemptAt: null,
    });
  });

  it('backs off from the second failure in a row (at once when stuck), doubling from 5 minutes up to a day', () => {
    const waitMin = (p: ExportPatch) =>
      p.nextAttemptAt ? (p.nextAttemptAt.getTime() - now.getTime()) / 60_000 : null;
    expect(waitMin(backOff({ failures: 0 }, 'x', now))).toBeNull();
    expect(waitMin(backOff({ failures: 1 }, 'x', now))).toBe(5);
    expect(waitMin(backOff({ failures: 2 }, 'x', now))).toBe(10);
    expect(waitMin(backOff({ failures: 0 }, 'x', now, { stuck: true }))).toBe(5);
    expect(waitMin(backOff({ failures: 20 }, 'x', now))).toBe(1440);
    expect(backOff({ failures: 3 }, 'x', now, { resetAttempts: true })).toMatchObject({
      failures: 4,
      attempts: 0,
    });
    expect(backOff({ failures: 3 }, 'x', now)).not.toHaveProperty('status');
  });

  it("refuses an operator's retry or abandon that does not apply, with the way out (a usage error)", () => {
    expect(() => retry(record('reserved'))).toThrow(/never confirmed/);
    expect(() => retry(record('loaded'))).toThrow(/replay --export 7/);
    expect(() => retry(record('downloaded', { vendorExportId: null, apiPath: 'load-file' }))).toThrow(
      /a file loaded by hand: run load-file again/,
    );
    expect(() => abandon(record('loaded'), 'r')).toThrow(ConfigError);
    expect(retry(record('failed'))).toMatchObject({
      status: 'submitted',
      attempts: 0,
      archivePath: null,
      failures: 0,
    });
    expect(abandon(record('downloaded'), 'bad file').error).toMatch(
      /^abandoned by an operator \(exports abandon\): bad file; last error: earlier/,
    );
  });
});

describe('one owner of the status', () => {
  const root = resolve(import.meta.dirname, '../..');
  const owner = 'src/ledger/export-transitions.ts';
  const files = ['src', 'connectors', 'migrations'].flatMap((dir) =>
    readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.ts'))
      .map((e) => relative(root, join(e.parentPath, e.name)).split('\\').join('/')),
  );
  /** A status written: an object literal's `status: '<ledger status>'`, or SQL's `set status =`. */
  const write =
    /\bstatus\s*:\s*['"](reserved|submitted|ready|downloaded|loaded|failed)['"]|\bset\s+status\s*=/gi;
  const writesIn = (text: string) => [...text.matchAll(write)].map((m) => m[0]);

  it('finds a status write where there is one', () => {
    expect(writesIn(`state.exports.update(id, { status: 'failed', error })`)).toHaveLength(1);
    expect(writesIn(`update cxone_od_sync.exports set status = 'loaded'`)).toHaveLength(1);
    expect(writesIn(`if (record.status === 'loaded') return;`)).toEqual([]);
    expect(writesIn(readFileSync(join(root, owner), 'utf8')).length).toBeGreaterThan(8);
  });

  it('has no status write outside the ledger transitions', () => {
    expect(files.length).toBeGreaterThan(50);
    const found = files
      .filter((f) => f !== owner)
      .flatMap((f) => writesIn(readFileSync(join(root, f), 'utf8')).map((w) => `${f}: ${w}`));
    expect(found).toEqual([]);
  });
});
