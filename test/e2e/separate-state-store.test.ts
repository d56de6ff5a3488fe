import { describe, expect, it } from 'vitest';
import { copilotAq } from '../../schemas/copilot-aq.js';
import { e2eFixtures } from '../support/e2e-fixture.js';

/**
 * A state store in another database than the destination: the destination has no transactional
 * state capability, so the engine commits state after the data, and a rerun stays idempotent.
 */
describe('state store apart from the destination (e2e)', () => {
  const startE2e = e2eFixtures();

  it('loads into the destination, keeps ledger and watermark in the state database, and reruns without duplicates', async () => {
    const f = await startE2e();
    const { db: dest, ws, cli } = f;
    const state = await f.createDatabase();
    const end = new Date(Date.now() - 86_400_000);
    end.setUTCHours(0, 0, 0, 0);
    // The window begins at the stream's start, so that its load sets the first watermark.
    await ws.writeConfig({
      state: { url: state.url },
      streams: { copilot_aq: { start: new Date(end.getTime() - 86_400_000).toISOString() } },
    });
    const args = [
      'sync',
      '--json',
      '--start',
      new Date(end.getTime() - 86_400_000).toISOString(),
      '--end',
      end.toISOString(),
    ];
    const r = await cli(args);
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

    const replay = await cli(['replay', '--json', '--export', '1']);
    expect(replay.code, replay.stderr).toBe(0);
    const [again] = await dest.query<{ n: string }>(`select count(*) as n from cxone.${copilotAq.name}`);
    expect(again!.n).toBe(rows!.n);
    expect(ws.sim.stats.exportRequests).toHaveLength(1);
  });
});
