import { describe, expect, it } from 'vitest';
import { e2eFixtures } from '../support/e2e-fixture.js';

/**
 * Issue 22: the run log and rejected rows have a retention (`state.runsKeepDays`,
 * `state.rejectedRowsKeepDays`), applied by `prune` and at the end of every sync; the export
 * ledger is kept.
 */
describe('prune (e2e)', () => {
  const startE2e = e2eFixtures();
  const s = 'cxone_od_sync';
  const config = { state: { runsKeepDays: 30, rejectedRowsKeepDays: 60 }, streams: { copilot_kb: {} } };

  /** 40 old runs of sync (days 100 to 139 ago) and an old loaded export with 3 rejected rows. */
  async function history(db: { query: (t: string, p?: unknown[]) => Promise<unknown[]> }) {
    await db.query(
      `insert into ${s}.runs (command, account, started_at, ended_at, outcome, exit_code)
        select 'sync', 'e2e', now() - (100 + g) * interval '1 day', now() - (100 + g) * interval '1 day', 'done', 0
        from generate_series(39, 0, -1) g`,
    );
    await db.query(
      `with e as (insert into ${s}.exports (account, stream, api_path, window_start, window_end, time_zone,
          request_body, status, reserved_at, file_name, loaded_at, rows, rejected_rows, updated_at)
        values ('e2e', 'copilot_kb', 'Copilot/KBTable', now() - interval '91 days', now() - interval '90 days',
          'UTC', '{}', 'loaded', now() - interval '90 days', 'f', now() - interval '90 days', 10, 3, now())
        returning id, export_key)
      insert into ${s}.rejected_rows (export_id, export_key, stream, line, raw, reason, recorded_at)
        select e.id, e.export_key, 'copilot_kb', g, 'x', 'bad', now() - interval '90 days'
        from e, generate_series(2, 4) g`,
    );
  }
  const count = async (db: { query: (t: string) => Promise<unknown[]> }, table: string) =>
    Number(((await db.query(`select count(*) as n from ${s}.${table}`)) as { n: string }[])[0]!.n);

  it('prune deletes runs and rejected rows past their retention, keeps the latest runs and the ledger, and says so in JSON', async () => {
    const { db, cli } = await startE2e({ config });
    const migrate = await cli(['migrate', '--json']);
    expect(migrate.code, migrate.stderr).toBe(0);
    await history(db);
    const r = await cli(['prune', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({
      command: 'prune',
      outcome: 'done',
      exitCode: 0,
      account: 'e2e',
      pruned: { archiveFiles: 0, runs: 30, rejectedRows: 3 },
    });
    expect(Date.parse(r.json.before.runs)).toBeLessThan(Date.now() - 29 * 86_400_000);
    // The latest 10 syncs (however old) and the prune's own run stay; the ledger row stays.
    const runs = (await db.query(`select command from ${s}.runs order by id`)) as { command: string }[];
    expect(runs.map((x) => x.command)).toEqual([...Array(10).fill('sync'), 'prune']);
    expect(await count(db, 'rejected_rows')).toBe(0);
    expect(await count(db, 'exports')).toBe(1);
    // Nothing left to prune.
    const again = await cli(['prune', '--json']);
    expect(again.json.pruned).toEqual({ archiveFiles: 0, runs: 0, rejectedRows: 0 });
  });

  it('a sync prunes the run log and rejected rows at its end', async () => {
    const { db, cli } = await startE2e({ config });
    expect((await cli(['migrate', '--json'])).code).toBe(0);
    await history(db);
    const r = await cli(['sync', '--json', '--max-exports', '0']);
    expect([0, 75]).toContain(r.code);
    // The sync's own run is the latest of the 10 syncs kept.
    const runs = (await db.query(
      `select (started_at > now() - interval '1 hour') as recent from ${s}.runs order by started_at desc`,
    )) as { recent: boolean }[];
    expect(runs.map((x) => x.recent)).toEqual([true, ...Array(9).fill(false)]);
    expect(await count(db, 'rejected_rows')).toBe(0);
  });

  it('a retention that is not a whole number of days is a config error (exit 2) naming the setting', async () => {
    const { cli } = await startE2e({ config: { ...config, state: { runsKeepDays: 0 } } });
    const r = await cli(['prune', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/state\.runsKeepDays/);
  });
});
