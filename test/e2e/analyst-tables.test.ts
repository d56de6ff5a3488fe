import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { DbtSourcesFile } from '../../src/cli/dbt-sources.js';
import { e2eFixtures } from '../support/e2e-fixture.js';
import type { TestDatabase } from '../support/test-database.js';

/**
 * What an analyst finds in the database: every enabled stream's table from `migrate` (and from the
 * first sync, loaded or not), comments on every state relation and column, the freshness view,
 * one key from a row to its ledger entry and rejected rows, and a dbt `sources.yml` that names
 * exactly the tables and columns there are.
 */
describe('tables, state and dbt sources for analysts (e2e)', () => {
  const startE2e = e2eFixtures();
  const start = new Date(Date.now() - 2 * 86_400_000);
  start.setUTCHours(0, 0, 0, 0);
  const allStreams = {
    copilot_kb: { start: start.toISOString() },
    copilot_as: { start: start.toISOString() },
    copilot_aq: { start: start.toISOString() },
    autopilot_gr: { start: start.toISOString() },
  };

  it('after migrate and no sync: every enabled stream has its table, the freshness view answers, every state relation and column has a comment', async () => {
    const f = await startE2e({
      config: { streams: { ...allStreams, copilot_aq: { enabled: false } } },
    });
    const migrate = await f.cli(['migrate', '--json']);
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(migrate.json.tables).toEqual(['copilot_kb', 'copilot_as', 'autopilot_gr']);
    expect(await tablesIn(f.db, 'cxone')).toEqual(['autopilot_gr', 'copilot_as', 'copilot_kb']);

    const fresh = await f.db.query<Record<string, unknown>>(
      `select * from cxone_od_sync.freshness order by stream`,
    );
    expect(fresh.map((r) => [r.account, r.stream, r.enabled])).toEqual([
      ['e2e', 'autopilot_gr', true],
      ['e2e', 'copilot_as', true],
      ['e2e', 'copilot_kb', true],
    ]);
    for (const r of fresh) {
      expect(r).toMatchObject({ watermark: null, lag: null, last_export_id: null, last_load_id: null });
      expect(Number(r.open_gaps)).toBe(0);
      expect(Number(r.exports_in_flight)).toBe(0);
      // Never synced: due now (a first sync is not paced).
      expect(r.next_due_at).toBeInstanceOf(Date);
    }

    const uncommented = await f.db.query(
      `select c.relname, a.attname
         from pg_class c
         join pg_namespace n on n.oid = c.relnamespace
         left join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where n.nspname = 'cxone_od_sync' and c.relkind in ('r', 'v', 'p')
          and (obj_description(c.oid, 'pg_class') is null
               or (a.attnum is not null and col_description(c.oid, a.attnum) is null))`,
    );
    expect(uncommented).toEqual([]);
    const relations = await f.db.query<{ relname: string }>(
      `select relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'cxone_od_sync' and c.relkind in ('r', 'v') order by relname`,
    );
    expect(relations.map((r) => r.relname)).toEqual(
      expect.arrayContaining(['exports', 'freshness', 'rejected_rows', 'stream_schedule', 'watermarks']),
    );
    expect(f.sim.stats.exportRequests).toHaveLength(0);

    // dbt-sources names exactly these tables and their columns, with the database's comments.
    const out = join(f.ws.dir, 'dbt');
    const dbt = await f.cli(['dbt-sources', '--out', out]);
    expect(dbt.code, dbt.stderr).toBe(0);
    const file = parseYaml(await readFile(join(out, 'sources.yml'), 'utf8')) as DbtSourcesFile;
    expect(file.version).toBe(2);
    // The database the destination URL names (the one a dbt profile connects to).
    const database = new URL(f.db.url).pathname.slice(1);
    expect(file.sources.map((s) => [s.name, s.database, s.schema])).toEqual([
      ['cxone', database, 'cxone'],
      ['cxone_od_sync', database, 'cxone_od_sync'],
    ]);
    expect(file.sources[0]!.tables.map((t) => t.name).sort()).toEqual(await tablesIn(f.db, 'cxone'));
    for (const source of file.sources) {
      for (const table of source.tables) {
        const actual = await relation(f.db, source.schema, table.name);
        expect(table.description, `${source.name}.${table.name}`).toBe(actual.description);
        const described = Object.fromEntries(table.columns.map((c) => [c.name, c.description]));
        expect(described, `${source.name}.${table.name}`).toEqual(actual.columns);
      }
    }
  });

  it('from the first sync, loaded or not: every table, one key from a row to its ledger entry and rejected rows, the freshness of each stream, and dbt tests that pass', async () => {
    const f = await startE2e({
      sim: { faults: { malformedEvery: 40 } },
      config: { streams: allStreams, defaults: { maxRejectedRatio: 0.1 } },
    });
    // No migrate: the sync creates every enabled stream's table; the quota (3) loads three.
    const sync = await f.cli(['sync', '--json']);
    expect(sync.code, sync.stderr).toBe(75);
    expect(await tablesIn(f.db, 'cxone')).toEqual(['autopilot_gr', 'copilot_aq', 'copilot_as', 'copilot_kb']);
    const states = Object.fromEntries(
      sync.json.streams.map((s: { stream: string; state: string }) => [s.stream, s.state]),
    );
    const loaded = Object.keys(states).filter((s) => states[s] === 'done');
    const deferred = Object.keys(states).filter((s) => states[s] === 'deferred');
    expect([loaded.length, deferred.length]).toEqual([3, 1]);

    for (const stream of loaded) {
      // Every row's _export_id is its ledger entry's export_key (the vendor's export id) ...
      const [rows] = await f.db.query<{ n: string; orphans: string; vendor: string }>(
        `select count(*) as n, count(*) filter (where e.id is null) as orphans,
                count(*) filter (where e.vendor_export_id = t._export_id) as vendor
           from cxone.${stream} t left join cxone_od_sync.exports e on e.export_key = t._export_id`,
      );
      expect(Number(rows!.n)).toBeGreaterThan(0);
      expect([Number(rows!.orphans), Number(rows!.vendor)]).toEqual([0, Number(rows!.n)]);
      // ... and the same key finds the rows its load set aside.
      const [rejected] = await f.db.query<{ n: string; linked: string }>(
        `select count(*) as n,
                count(*) filter (where exists (select 1 from cxone.${stream} t where t._export_id = r.export_key)
                                   and r.export_key = (select export_key from cxone_od_sync.exports e where e.id = r.export_id)) as linked
           from cxone_od_sync.rejected_rows r where r.stream = $1`,
        [stream],
      );
      expect(Number(rejected!.n)).toBeGreaterThan(0);
      expect(Number(rejected!.linked)).toBe(Number(rejected!.n));
    }

    const fresh = new Map(
      (await f.db.query<Record<string, unknown>>(`select * from cxone_od_sync.freshness`)).map((r) => [
        r.stream as string,
        r,
      ]),
    );
    expect([...fresh.keys()].sort()).toEqual(Object.keys(allStreams).sort());
    for (const stream of loaded) {
      const r = fresh.get(stream)!;
      expect(r.watermark).toBeInstanceOf(Date);
      expect(Number(r.lag_hours)).toBeGreaterThan(0);
      expect(r.last_export_status).toBe('loaded');
      expect(r.last_load_export_key).toBe(r.last_export_key);
      const [counts] = await f.db.query<{ rows: string; rejected: string }>(
        `select (select count(*) from cxone.${stream} where _export_id = $1) as rows,
                (select count(*) from cxone_od_sync.rejected_rows where export_key = $1) as rejected`,
        [r.last_load_export_key],
      );
      expect([Number(r.last_load_rows), Number(r.last_load_rejected_rows)]).toEqual([
        Number(counts!.rows),
        Number(counts!.rejected),
      ]);
      // Just loaded: not due again before the scheduler's pace allows.
      expect((r.next_due_at as Date).getTime()).toBeGreaterThan((r.scheduled_at as Date).getTime());
    }
    const waiting = fresh.get(deferred[0]!)!;
    expect(waiting).toMatchObject({ watermark: null, last_export_id: null });
    // Due, waiting for the quota slot the sync reported.
    expect((waiting.next_due_at as Date).toISOString()).toBe(sync.json.nextSlotAt);

    // A file loaded by hand over a loaded window: local-<ledger id> on its rows, ledger and rejected rows.
    const stream = loaded[0]!;
    const [exp] = await f.db.query<{ archive_path: string; window_start: Date; window_end: Date }>(
      `select archive_path, window_start, window_end from cxone_od_sync.exports where stream = $1`,
      [stream],
    );
    const byHand = await f.cli([
      'load-file',
      exp!.archive_path,
      '--stream',
      stream,
      '--start',
      exp!.window_start.toISOString(),
      '--end',
      exp!.window_end.toISOString(),
      '--json',
    ]);
    expect(byHand.code, byHand.stderr).toBe(0);
    const [local] = await f.db.query<{ key: string; rows: string; rejected: string; view_key: string }>(
      `select e.export_key as key,
              (select count(*) from cxone.${stream} t where t._export_id = e.export_key) as rows,
              (select count(*) from cxone_od_sync.rejected_rows r where r.export_key = e.export_key) as rejected,
              (select last_load_export_key from cxone_od_sync.freshness v where v.stream = e.stream) as view_key
         from cxone_od_sync.exports e where e.vendor_export_id is null`,
    );
    expect(local!.key).toMatch(/^local-\d+$/);
    expect(local!.view_key).toBe(local!.key);
    expect(Number(local!.rows)).toBeGreaterThan(0);
    expect(Number(local!.rejected)).toBeGreaterThan(0);

    // The tests dbt-sources declares hold, run as dbt compiles not_null and unique.
    const dbt = await f.cli(['dbt-sources', '--json']);
    expect(dbt.code, dbt.stderr).toBe(0);
    let checked = 0;
    for (const source of (dbt.json as DbtSourcesFile).sources) {
      for (const table of source.tables) {
        const from = `"${source.schema}"."${table.name}"`;
        const tests: [string, string][] = [];
        for (const t of table.data_tests ?? []) tests.push(['unique', uniqueExpr(t)]);
        for (const c of table.columns)
          for (const t of c.data_tests ?? []) tests.push([String(t), `"${c.name}"`]);
        for (const [kind, expr] of tests) {
          const sql =
            kind === 'not_null'
              ? `select count(*) as n from ${from} where ${expr} is null`
              : `select count(*) as n from (select ${expr} as k from ${from} where ${expr} is not null group by ${expr} having count(*) > 1) d`;
          const [r] = await f.db.query<{ n: string }>(sql);
          expect(Number(r!.n), `${kind} ${expr} on ${from}`).toBe(0);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('a destination that cannot be reached fails the sync before any export is requested', async () => {
    const f = await startE2e();
    const port = await closedPort();
    await f.ws.writeConfig({
      state: { url: f.db.url },
      destination: {
        type: 'postgres',
        url: `postgres://postgres@127.0.0.1:${port}/nowhere`,
        schema: 'cxone',
      },
      streams: allStreams,
    });
    const sync = await f.cli(['sync', '--json']);
    expect(sync.code).toBe(1);
    expect(sync.json).toMatchObject({ outcome: 'error', error: { type: 'StoreError', retryable: true } });
    expect(sync.json.error.message).toMatch(/destination\.url/);
    expect(f.sim.stats.exportRequests).toHaveLength(0);
    expect(await f.db.query(`select * from cxone_od_sync.exports`)).toEqual([]);
  });
});

/** The tables (not views) of a schema, sorted. */
async function tablesIn(db: TestDatabase, schema: string): Promise<string[]> {
  const rows = await db.query<{ table_name: string }>(
    `select table_name from information_schema.tables where table_schema = $1 and table_type = 'BASE TABLE' order by table_name`,
    [schema],
  );
  return rows.map((r) => r.table_name);
}

/** A table or view's comment and its columns' comments, from the catalog. */
async function relation(
  db: TestDatabase,
  schema: string,
  name: string,
): Promise<{ description: string | null; columns: Record<string, string | null> }> {
  const [rel] = await db.query<{ description: string | null }>(
    `select obj_description(format('%I.%I', $1::text, $2::text)::regclass, 'pg_class') as description`,
    [schema, name],
  );
  const cols = await db.query<{ name: string; description: string | null }>(
    `select attname as name, col_description(attrelid, attnum) as description from pg_attribute
      where attrelid = format('%I.%I', $1::text, $2::text)::regclass and attnum > 0 and not attisdropped`,
    [schema, name],
  );
  return {
    description: rel!.description,
    columns: Object.fromEntries(cols.map((c) => [c.name, c.description])),
  };
}

/** The expression of a table-level `unique` test. */
function uniqueExpr(test: unknown): string {
  const column = (test as { unique?: { column_name?: string } }).unique?.column_name;
  if (!column) throw new Error(`not a unique test: ${JSON.stringify(test)}`);
  return column;
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}
