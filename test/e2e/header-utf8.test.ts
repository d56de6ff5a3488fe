import { describe, expect, it } from 'vitest';
import { copilotKb } from '../../schemas/copilot-kb.js';
import { e2eFixtures, yesterdayWindowArgs } from '../support/e2e-fixture.js';
import { csvCell, displayHeaders } from '../support/simulator.js';
import { expectTableMatchesSimulator } from '../support/table-expectations.js';
import type { TestDatabase } from '../support/test-database.js';

interface LedgerRow {
  id: string;
  status: string;
  failures: number;
  vendor_export_id: string | null;
  archive_path: string | null;
  next_attempt_at: Date | null;
  error: string | null;
}

/**
 * Issue 27, item 2: a vendor file whose header is not valid UTF-8 (`Categ\xC3ry`) used to load
 * with `category` NULL on every row and a new column `categ_ry`, exit 0. It is refused, and the
 * export the vendor made is kept with its file (not written off, its window not bought again).
 */
describe('a file whose header is not valid UTF-8 (e2e)', () => {
  const start = e2eFixtures();

  const ledger = (d: TestDatabase) =>
    d.query<LedgerRow>(
      `select id, status, failures, vendor_export_id, archive_path, next_attempt_at, error
         from cxone_od_sync.exports order by id`,
    );
  const columns = async (d: TestDatabase) =>
    (
      await d.query<{ column_name: string }>(
        `select column_name from information_schema.columns where table_schema = 'cxone' and table_name = 'copilot_kb'`,
      )
    ).map((c) => c.column_name);

  it('refuses the file, keeps the export downloaded and backed off, and spends no second request', async () => {
    const f = await start({
      sim: { faults: { rawHeaders: { Category: 'Categ\xC3ry' } } },
      config: { streams: { copilot_kb: { timeZone: 'America/New_York', schemaDrift: 'evolve' } } },
    });
    const sync = () => f.cli(['sync', '--json', ...yesterdayWindowArgs()]);
    const migrate = await f.cli(['migrate']);
    expect(migrate.code, migrate.stderr).toBe(0);
    const before = await columns(f.db);

    const refused = await sync();
    expect(refused.code, refused.stderr).toBe(1);
    const error: string = refused.json.streams[0].error;
    expect(error).toMatch(/the header \(line 1\) of \S+copilot_kb\S+\.csv is not valid UTF-8/);
    // The field and the file offset of 0xC3: after the BOM and the headers before it.
    const headers = displayHeaders('copilot_kb').map((c) => c.header);
    const field = headers.indexOf('Category');
    const offset = Buffer.byteLength(`\uFEFF${headers.slice(0, field).map(csvCell).join(',')},Categ`);
    expect(error).toContain(
      `field ${field + 1} of ${headers.length} ("Categ\uFFFDry" as decoded) has the byte 0xC3 at byte offset ${offset} of the file`,
    );
    expect(error).toContain('replay --export 1');
    expect(error).toContain('exports abandon 1');
    const [{ n }] = (await f.db.query<{ n: string }>('select count(*) as n from cxone.copilot_kb')) as [
      { n: string },
    ];
    expect(Number(n)).toBe(0);
    expect(await columns(f.db)).toEqual(before);
    expect(await f.db.query('select * from cxone_od_sync.watermarks')).toEqual([]);
    let [row] = await ledger(f.db);
    expect(row).toMatchObject({ status: 'downloaded', failures: 1, vendor_export_id: expect.any(String) });
    expect(row!.archive_path).not.toBeNull();
    expect(row!.next_attempt_at!.getTime()).toBeGreaterThan(Date.now());
    expect(f.sim.stats.exportRequests).toHaveLength(1);
    expect(f.sim.stats.downloads).toBe(1);

    // The next sync leaves the kept export alone: no new request, no second download.
    const again = await sync();
    expect(again.code, again.stderr).toBe(1);
    expect(again.json.streams[0].error).toContain('not valid UTF-8');
    expect(f.sim.stats.exportRequests).toHaveLength(1);
    expect(f.sim.stats.downloads).toBe(1);
    [row] = await ledger(f.db);
    expect(row!.status).toBe('downloaded');

    const listed = await f.cli(['exports', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.json.exports).toHaveLength(1);
    expect(listed.json.exports[0]).toMatchObject({ ledgerId: '1', status: 'downloaded', inBackoff: true });
    expect(listed.json.exports[0].error).toContain('not valid UTF-8');

    // A replay of the same file, calling no API, fails the same way.
    const replay = await f.cli(['replay', '--export', '1', '--json']);
    expect(replay.code, replay.stderr).toBe(1);
    expect(`${replay.stdout}${replay.stderr}`).toContain('not valid UTF-8');
    expect(f.sim.stats.downloads).toBe(1);

    // The way out: give it up; the vendor now sends a good file, and the window loads.
    f.sim.setFaults({ rawHeaders: {} });
    const abandoned = await f.cli(['exports', 'abandon', '1', '--reason', 'header not UTF-8']);
    expect(abandoned.code, abandoned.stderr).toBe(0);
    const loaded = await sync();
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(f.sim.stats.exportRequests).toHaveLength(2);
    expect((await ledger(f.db)).map((r) => r.status)).toEqual(['failed', 'loaded']);
    await expectTableMatchesSimulator(f.db, copilotKb);
  });
});
