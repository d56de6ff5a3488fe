import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  appendToJournal,
  applyJournal,
  type JournalEntry,
  journalPath,
} from '../../src/export/export-journal.js';
import { reserve } from '../../src/ledger/export-transitions.js';
import { silentLogger } from '../../src/log/logger.js';
import { processOwner } from '../../src/ports/claim-owner.js';
import { StateStore } from '../../src/state/state-store.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The local journal keeps the vendor's answers the ledger could not take: applying it must lose
 * none, even when a line is damaged or an earlier run died while applying.
 */
describe('export journal (real PostgreSQL)', () => {
  let db: TestDatabase | undefined;
  let state: StateStore | undefined;
  afterEach(async () => {
    await state?.close();
    await db?.drop();
  });

  async function reserved(store: StateStore, stream: string, day: number) {
    const now = new Date();
    const r = await store.quota.reserveExport(
      reserve(
        {
          account: 'acct',
          stream,
          apiPath: 'Copilot/KBTable',
          windowStart: new Date(Date.UTC(2026, 10, day)),
          windowEnd: new Date(Date.UTC(2026, 10, day + 1)),
          timeZone: 'UTC',
          requestBody: '{}',
          fileName: `f${day}`,
        },
        now,
      ),
      { perDay: 10, reserveForOthers: 0 },
      now,
      processOwner(),
    );
    if (r.kind !== 'reserved') throw new Error(r.kind);
    return r.record;
  }

  const entry = (ledgerId: string, stream: string, vendor: string): JournalEntry => ({
    account: 'acct',
    stream,
    ledgerId,
    vendorExportId: vendor,
    statusUrl: `http://127.0.0.1:1/export-data/${vendor}/status`,
    windowStart: '2026-11-01T00:00:00.000Z',
    windowEnd: '2026-11-02T00:00:00.000Z',
    submittedAt: new Date().toISOString(),
  });

  it('applies every entry, a damaged line kept aside, a file a dead run left aside included', async () => {
    db = await createTestDatabase();
    state = new StateStore(db.url);
    await state.migrate();
    const archive = await mkdtemp(join(tmpdir(), 'journal-'));
    const a = await reserved(state, 'copilot_kb', 1);
    const b = await reserved(state, 'copilot_as', 2);
    await appendToJournal(archive, entry(a.ledgerId, 'copilot_kb', 'vendor-a'));
    const path = journalPath(archive, 'acct');
    await writeFile(path, `${await readFile(path, 'utf8')}{"account":"acct","ledge\n`);
    // A run that died while applying left its file aside.
    await writeFile(
      `${path}.applying-1-1`,
      `${JSON.stringify(entry(b.ledgerId, 'copilot_as', 'vendor-b'))}\n`,
    );

    const applied = await applyJournal(state, archive, 'acct', new Date(), silentLogger);
    expect(applied).toBe(2);
    const rows = await db.query<{ id: string; status: string; vendor_export_id: string }>(
      'select id, status, vendor_export_id from cxone_od_sync.exports order by id',
    );
    expect(rows).toEqual([
      { id: a.ledgerId, status: 'submitted', vendor_export_id: 'vendor-a' },
      { id: b.ledgerId, status: 'submitted', vendor_export_id: 'vendor-b' },
    ]);
    // Nothing left to apply; the damaged line is kept, not dropped.
    expect((await readdir(dirname(path))).sort()).toEqual(['acct.jsonl.bad']);
    expect(await readFile(`${path}.bad`, 'utf8')).toBe('{"account":"acct","ledge\n');
    expect(await applyJournal(state, archive, 'acct', new Date(), silentLogger)).toBe(0);
  });
});
