import { afterAll, describe, expect, it } from 'vitest';
import { copilotAq } from '../../schemas/copilot-aq.js';
import { createWorkspace, runCli, simEnv, type Workspace } from '../support/cli-harness.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * A state store in another database than the destination: the destination has no transactional
 * state capability, so the engine commits state after the data, and a rerun stays idempotent.
 */
describe('state store apart from the destination (e2e)', () => {
  const dbs: TestDatabase[] = [];
  let ws: Workspace | undefined;
  afterAll(async () => {
    await ws?.sim.close();
    for (const d of dbs) await d.drop();
  });

  it('loads into the destination, keeps ledger and watermark in the state database, and reruns without duplicates', async () => {
    const dest = await createTestDatabase();
    const state = await createTestDatabase();
    dbs.push(dest, state);
    ws = await createWorkspace(dest);
    await ws.writeConfig({ state: { url: state.url }, streams: { copilot_aq: {} } });
    const end = new Date(Date.now() - 86_400_000);
    end.setUTCHours(0, 0, 0, 0);
    const args = [
      'sync',
      '--json',
      '--config',
      ws.configPath,
      '--start',
      new Date(end.getTime() - 86_400_000).toISOString(),
      '--end',
      end.toISOString(),
    ];
    const r = await runCli(args, { cwd: ws.dir, env: simEnv(ws.sim) });
    expect(r.code, r.stderr).toBe(0);
    const [rows] = await dest.query<{ n: string }>(`select count(*) as n from cxone.${copilotAq.name}`);
    expect(Number(rows!.n)).toBe(r.json.rowsLoaded);
    expect(Number(rows!.n)).toBeGreaterThan(0);
    expect(
      await dest.query(`select 1 from information_schema.schemata where schema_name = 'cxone_od_sync'`),
    ).toEqual([]);
    const [ledger] = await state.query<{ status: string; rows: string }>(
      `select status, rows from cxone_od_sync.exports`,
    );
    expect(ledger).toEqual({ status: 'loaded', rows: rows!.n });
    const [wm] = await state.query<{ watermark: Date }>(`select watermark from cxone_od_sync.watermarks`);
    expect(wm!.watermark.toISOString()).toBe(end.toISOString());

    const replay = await runCli(['replay', '--json', '--config', ws.configPath, '--export', '1'], {
      cwd: ws.dir,
      env: simEnv(ws.sim),
    });
    expect(replay.code, replay.stderr).toBe(0);
    const [again] = await dest.query<{ n: string }>(`select count(*) as n from cxone.${copilotAq.name}`);
    expect(again!.n).toBe(rows!.n);
    expect(ws.sim.stats.exportRequests).toHaveLength(1);
  });
});
