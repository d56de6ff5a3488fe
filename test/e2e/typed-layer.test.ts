import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copilotKb } from '../../schemas/copilot-kb.js';
import { runCli } from '../support/cli-harness.js';
import { e2eFixtures } from '../support/e2e-fixture.js';
import { generateRows, type SimulatorOptions } from '../support/simulator.js';
import { expectTableMatchesSimulator } from '../support/table-expectations.js';

/** Rejected rows, the reject ratio, drift policies, load-file, replay and infer-schema, end to end. */
describe('typed layer (e2e)', () => {
  const startE2e = e2eFixtures();

  const day = 86_400_000;
  const end = new Date(Date.now() - day);
  end.setUTCHours(0, 0, 0, 0);
  const start = new Date(end.getTime() - day);
  const windowArgs = ['--start', start.toISOString(), '--end', end.toISOString()];

  async function setup(sim: SimulatorOptions = {}, streamOptions: Record<string, unknown> = {}) {
    const f = await startE2e({
      sim,
      config: { streams: { copilot_kb: { timeZone: 'America/New_York', ...streamOptions } } },
    });
    const cli = (args: string[]) => f.cli([...args, '--json']);
    return { db: f.db, ws: f.ws, cli };
  }

  it('loads nothing above maxRejectedRatio; after raising it, replay loads the good rows and records each bad one', async () => {
    const { db, ws, cli } = await setup({ faults: { malformedEvery: 10 } });
    const r = await cli(['sync', ...windowArgs]);
    expect(r.code).toBe(1);
    expect(r.json.streams[0].error).toMatch(
      /rows rejected, above maxRejectedRatio 0.01; nothing loaded, watermark unchanged/,
    );
    const [t] = await db.query<{ n: string }>(`select count(*) as n from cxone.copilot_kb`);
    expect(Number(t!.n)).toBe(0);
    expect(await db.query(`select * from cxone_od_sync.watermarks`)).toEqual([]);
    // The vendor's export is kept with its file (not freed to be requested again), backed off.
    const [failed] = await db.query<{ id: string; status: string }>(
      `select id, status from cxone_od_sync.exports`,
    );
    expect(failed!.status).toBe('downloaded');

    await ws.writeConfig({
      streams: {
        copilot_kb: { timeZone: 'America/New_York', maxRejectedRatio: 0.2, start: start.toISOString() },
      },
    });
    const replay = await cli(['replay', '--export', failed!.id]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(ws.sim.stats.exportRequests).toHaveLength(1);
    const expected = [...generateRows('copilot_kb', start, new Date(end.getTime() - 1))];
    const bad = Math.floor(expected.length / 10);
    expect(replay.json).toMatchObject({ outcome: 'done', rows: expected.length - bad, rejected: bad });
    const rejected = await db.query<{ line: string; raw: string; reason: string }>(
      `select line, raw, reason from cxone_od_sync.rejected_rows order by line`,
    );
    expect(rejected).toHaveLength(bad);
    expect(rejected[0]!.reason).toMatch(/^suggestions_shown: not a number: "not-a-number"/);
    expect(rejected[0]!.raw).toContain('not-a-number');
    expect(Number(rejected[0]!.line)).toBeGreaterThan(1);
    const [wm] = await db.query<{ watermark: Date }>(`select watermark from cxone_od_sync.watermarks`);
    expect(wm!.watermark.toISOString()).toBe(end.toISOString());
  });

  it.each([
    ['evolve', 0],
    ['ignore', 0],
    ['fail', 1],
  ] as const)('handles an extra column under schemaDrift %s', async (policy, code) => {
    const { db, cli } = await setup({ faults: { driftExtraHeader: true } }, { schemaDrift: policy });
    const r = await cli(['sync', ...windowArgs]);
    expect(r.code, r.stderr).toBe(code);
    const cols = (
      await db.query<{ column_name: string }>(
        `select column_name from information_schema.columns where table_schema = 'cxone' and table_name = 'copilot_kb'`,
      )
    ).map((c) => c.column_name);
    if (policy === 'evolve') {
      expect(cols).toContain('sentiment_score');
      const vals = await db.query<{ v: string | null }>(
        `select distinct sentiment_score as v from cxone.copilot_kb where sentiment_score is not null limit 3`,
      );
      expect(vals.length).toBeGreaterThan(0);
      await expectTableMatchesSimulator(db, copilotKb);
    } else if (policy === 'ignore') {
      expect(cols).not.toContain('sentiment_score');
      expect(r.stderr).toContain('ignoring unknown headers');
      await expectTableMatchesSimulator(db, copilotKb);
    } else {
      expect(r.json.streams[0].error).toMatch(/unknown headers "Sentiment Score" \(schemaDrift: fail\)/);
      const [t] = await db.query<{ n: string }>(
        `select count(*) as n from cxone_od_sync.exports where status = 'loaded'`,
      );
      expect(Number(t!.n)).toBe(0);
    }
  });

  it('load-file of a simulator export gives the same table as a sync of that window', async () => {
    const a = await setup();
    const synced = await a.cli(['sync', ...windowArgs]);
    expect(synced.code, synced.stderr).toBe(0);
    const [{ archive_path }] = (await a.db.query<{ archive_path: string }>(
      `select archive_path from cxone_od_sync.exports`,
    )) as [{ archive_path: string }];

    const b = await setup();
    const loaded = await b.cli(['load-file', archive_path, '--stream', 'copilot_kb', ...windowArgs]);
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(b.ws.sim.stats.exportRequests).toHaveLength(0);
    const cols = [...copilotKb.columns.map((c) => c.name), '_window_start', '_window_end', '_source_line']
      .map((c) => `"${c}"`)
      .join(', ');
    const q = `select ${cols} from cxone.copilot_kb order by interaction_time, contact_id`;
    const rowsA = await a.db.query(q);
    expect(rowsA.length).toBeGreaterThan(0);
    expect(await b.db.query(q)).toEqual(rowsA);

    // An empty export (no header at all) is a window with no rows, not an error.
    const empty = join(b.ws.dir, 'empty.csv');
    await writeFile(empty, '');
    const none = await b.cli(['load-file', empty, '--stream', 'copilot_kb', ...windowArgs]);
    expect(none.code, none.stderr).toBe(0);
    expect(none.json).toMatchObject({ rows: 0, rejected: 0 });
    expect(await b.db.query(q)).toEqual([]);

    const inferred = await runCli(['infer-schema', archive_path, '--stream', 'copilot_kb', '--json']);
    expect(inferred.code, inferred.stderr).toBe(0);
    const types = Object.fromEntries(
      inferred.json.columns.map((c: { header: string; type: string }) => [c.header, c.type]),
    );
    expect(types).toMatchObject({
      'Interaction Time': 'timestamp',
      'Suggestions Shown': 'integer',
      'Latency (ms)': 'number',
      'Knowledge Article': 'text',
    });
    expect(inferred.json.columns.every((c: { existing: unknown }) => c.existing !== null)).toBe(true);
  });
});
