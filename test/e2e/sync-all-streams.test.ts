import { beforeAll, describe, expect, it } from 'vitest';
import { streamSchemas } from '../../schemas/index.js';
import { type E2eFixture, e2eFixtures } from '../support/e2e-fixture.js';
import { expectTableMatchesSimulator } from '../support/table-expectations.js';

/** The built CLI against the simulator over HTTP, into a fresh PostgreSQL database. */
describe('sync of all four streams (e2e)', () => {
  const startE2e = e2eFixtures('all');
  let f: E2eFixture;
  const start = new Date(Date.now() - 3 * 86_400_000);
  start.setUTCHours(0, 0, 0, 0);

  beforeAll(async () => {
    f = await startE2e({
      sim: { faults: { quota: 20 } },
      config: {
        account: { exportsPer24h: 20 },
        streams: {
          copilot_kb: { start: start.toISOString(), timeZone: 'America/New_York' },
          copilot_as: { start: start.toISOString(), timeZone: 'Asia/Kolkata' },
          copilot_aq: { start: start.toISOString(), timeZone: 'Europe/Berlin' },
          autopilot_gr: { start: start.toISOString(), path: 'autopilot/GRTable' },
        },
      },
    });
  });

  async function expectTablesEqualSimulator() {
    for (const schema of streamSchemas) await expectTableMatchesSimulator(f.db, schema);
  }

  it('loads every stream typed and equal to what the simulator generated; a sync right after sends nothing, a window loaded again adds no duplicate', async () => {
    const { db, ws, cli } = f;
    const first = await cli(['sync', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.outcome).toBe('done');
    expect(first.json.exportsRequested).toBe(4);
    expect(first.json.streams.map((s: { state: string }) => s.state)).toEqual([
      'done',
      'done',
      'done',
      'done',
    ]);
    expect(ws.sim.stats.exportRequests.map((e) => e.path).sort()).toEqual([
      'Copilot/AQTable',
      'Copilot/ASTable',
      'Copilot/KBTable',
      'autopilot/GRTable',
    ]);
    await expectTablesEqualSimulator();

    // Free text survived: commas, quotes, CRLF and LF inside fields, Unicode.
    const texts = await db.query<{ question: string }>(`select distinct question from cxone.copilot_aq`);
    const all = texts.map((t) => t.question);
    expect(all).toContain('Comma, "quote", and\r\nCRLF inside');
    expect(all).toContain('注文をキャンセルするには？');
    expect(all).toContain('Multi-line question:\nfirst line\nsecond line');

    // Right after, nothing is worth a request: the run sends nothing and says when each is due.
    const second = await cli(['sync', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.json.exportsRequested).toBe(0);
    expect(second.json.nextDueAt).toEqual(expect.any(String));
    expect(second.json.streams.map((s: { note: string }) => s.note)).toEqual(
      Array(4).fill(expect.stringMatching(/^not due: .*next export due at/)),
    );
    // A window loaded again (inside what the first sync loaded) replaces its rows: no duplicate.
    const day = new Date(start.getTime() + 86_400_000).toISOString();
    const again = await cli([
      'sync',
      '--json',
      '--start',
      day,
      '--end',
      new Date(start.getTime() + 2 * 86_400_000).toISOString(),
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.exportsRequested).toBe(4);
    await expectTablesEqualSimulator();
    for (const schema of streamSchemas) {
      const [dups] = await db.query<{ n: string }>(
        `select count(*) - count(distinct ("${schema.eventTime}", ${schema.columns[1]!.name})) as n from cxone.${schema.name}`,
      );
      expect(Number(dups!.n), schema.name).toBe(0);
    }
  });

  it('documents the tables: typed columns with comments and an event-time index', async () => {
    const { db } = f;
    const cols = await db.query<{ column_name: string; data_type: string; comment: string | null }>(
      `select c.column_name, c.data_type, col_description('cxone.copilot_kb'::regclass, c.ordinal_position) as comment
         from information_schema.columns c where table_schema = 'cxone' and table_name = 'copilot_kb' order by ordinal_position`,
    );
    const types = Object.fromEntries(cols.map((c) => [c.column_name, c.data_type]));
    expect(types).toMatchObject({
      interaction_time: 'timestamp with time zone',
      suggestions_shown: 'bigint',
      latency_ms: 'double precision',
      knowledge_article: 'text',
      _export_id: 'text',
      _source_line: 'bigint',
    });
    expect(cols.every((c) => c.comment && c.comment.length > 0)).toBe(true);
    const idx = await db.query(
      `select indexdef from pg_indexes where schemaname = 'cxone' and tablename = 'copilot_kb'`,
    );
    expect(JSON.stringify(idx)).toContain('(interaction_time)');
  });

  it('check with wrong credentials fails clearly and spends no export', async () => {
    const { ws, cli } = f;
    const before = ws.sim.stats.exportRequests.length;
    const r = await cli(['check'], { env: { SIM_ACCESS_SECRET: 'wrong-secret-value' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refused the credentials.*accessSecret/);
    expect(r.stderr).not.toContain('wrong-secret-value');
    expect(ws.sim.stats.exportRequests.length).toBe(before);

    const ok = await cli(['check', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json.checks.map((c: { check: string }) => c.check)).toEqual([
      'config',
      'archive',
      'credentials',
      'clock',
      'state store',
      'destination (postgres)',
    ]);
    expect(ws.sim.stats.exportRequests.length).toBe(before);
  });
});
