import { Kysely, Migrator, PostgresDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { stateMigrations } from '../../migrations/index.js';
import { latestRunsKept, pruneState } from '../../src/run/state-prune.js';
import { asKyselyPool, createSqlPool, type SqlClient, type SqlPool } from '../../src/state/sql-pool.js';
import { stateSchema } from '../../src/state/state-constants.js';
import { StateStore } from '../../src/state/state-store.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const dayMs = 86_400_000;
const now = new Date('2026-11-30T12:00:00Z');
const daysAgo = (d: number) => new Date(now.getTime() - d * dayMs);
const retention = { runsKeepDays: 30, rejectedRowsKeepDays: 60 };

/** The state store's tables, as a test reads them. */
const s = 'cxone_od_sync';

describe('retention of the run log and rejected rows', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function store(): Promise<{ db: TestDatabase; state: StateStore }> {
    const db = await createTestDatabase('cxone_retention');
    cleanups.push(() => db.drop());
    const state = new StateStore(db.url);
    cleanups.push(() => state.close());
    await state.migrate();
    return { db, state };
  }
  /** `count` runs of `command` for `account`, one every `everyDays` back from `fromDays` ago. */
  const runs = (
    db: TestDatabase,
    account: string,
    command: string,
    count: number,
    everyDays: number,
    fromDays = 0,
  ) =>
    db.query(
      `insert into ${s}.runs (command, account, started_at, ended_at, outcome, exit_code)
        select $1, $2, $3::timestamptz - (g * $4::float8 + $5::float8) * interval '1 day', $3::timestamptz - (g * $4::float8 + $5::float8) * interval '1 day' + interval '10 seconds', 'done', 0
        from generate_series(0, $6 - 1) g order by g desc`,
      [command, account, now, everyDays, fromDays, count],
    );
  const startsOf = async (db: TestDatabase, account: string, command: string) =>
    (
      await db.query<{ started_at: Date }>(
        `select started_at from ${s}.runs where account = $1 and command = $2 order by started_at desc`,
        [account, command],
      )
    ).map((r) => r.started_at.getTime());

  it('prunes the runs older than state.runsKeepDays and keeps the newer ones', async () => {
    const { db, state } = await store();
    await runs(db, 'acct', 'sync', 100, 0.5); // 50 days, twice a day
    const pruned = await pruneState(state, { accountKey: 'acct', retention }, now);
    const left = await startsOf(db, 'acct', 'sync');
    expect(pruned.runs).toBe(100 - left.length);
    expect(left.every((t) => t >= daysAgo(30).getTime())).toBe(true);
    // Every run of the last 30 days stays (days 0 to 30, every half day: 61 runs).
    expect(left).toHaveLength(61);
    // The scheduler's reading of how often sync runs is unchanged.
    expect(await state.runs.previousStarts('acct', 'sync', undefined)).toHaveLength(8);
  });

  it('never prunes the latest runs of an account and command, however old, nor another account', async () => {
    const { db, state } = await store();
    await runs(db, 'acct', 'unblock', 1, 1, 400);
    await runs(db, 'other', 'sync', 5, 1, 100);
    await runs(db, 'acct', 'sync', 25, 1, 200); // the cron stopped 200 days ago
    const pruned = await pruneState(state, { accountKey: 'acct', retention }, now);
    expect(pruned.runs).toBe(25 - latestRunsKept);
    const kept = await startsOf(db, 'acct', 'sync');
    expect(kept).toEqual(Array.from({ length: latestRunsKept }, (_, i) => daysAgo(200 + i).getTime()));
    expect(await startsOf(db, 'acct', 'unblock')).toHaveLength(1);
    expect(await startsOf(db, 'other', 'sync')).toHaveLength(5);
    // What status and plan read is still there.
    expect((await state.runs.last('acct', 1))[0]?.startedAt).toEqual(daysAgo(200));
    expect(await state.runs.previousStarts('acct', 'sync', undefined)).toHaveLength(8);
    // A second prune finds nothing more.
    expect((await pruneState(state, { accountKey: 'acct', retention }, now)).runs).toBe(0);
  });

  it("prunes the account's rejected rows older than state.rejectedRowsKeepDays; the ledger stays", async () => {
    const { db, state } = await store();
    const exportOf = async (account: string, loadedDaysAgo: number) => {
      const [row] = await db.query<{ id: string }>(
        `insert into ${s}.exports (account, stream, api_path, window_start, window_end, time_zone, request_body,
            status, reserved_at, file_name, loaded_at, rows, rejected_rows, updated_at)
          values ($1, 'copilot_kb', 'Copilot/KBTable', $2, $2, 'UTC', '{}', 'loaded', $2, 'f', $2, 10, 2, $2)
          returning id`,
        [account, daysAgo(loadedDaysAgo)],
      );
      await db.query(
        `insert into ${s}.rejected_rows (export_id, export_key, stream, line, raw, reason, recorded_at)
          select $1::bigint, 'local-' || $1::text, 'copilot_kb', g, 'x', 'bad', $2 from generate_series(2, 3) g`,
        [row!.id, daysAgo(loadedDaysAgo)],
      );
      return row!.id;
    };
    const old = await exportOf('acct', 90);
    const recent = await exportOf('acct', 10);
    const others = await exportOf('other', 90);
    const pruned = await pruneState(state, { accountKey: 'acct', retention }, now);
    expect(pruned.rejectedRows).toBe(2);
    const left = await db.query<{ export_id: string; n: string }>(
      `select export_id::text, count(*) as n from ${s}.rejected_rows group by export_id order by export_id`,
    );
    expect(left).toEqual([
      { export_id: recent, n: '2' },
      { export_id: others, n: '2' },
    ]);
    const ledger = await db.query<{ n: string }>(`select count(*) as n from ${s}.exports`);
    expect(ledger[0]!.n).toBe('3');
    expect(old).toBeDefined();
  });

  it('migration 0005 applies on a store that has history, and keeps every row', async () => {
    const db = await createTestDatabase('cxone_retention');
    cleanups.push(() => db.drop());
    const k = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: asKyselyPool(createSqlPool(db.url, 1)) }),
    }).withSchema(stateSchema);
    await db.query(`create schema ${s}`);
    const migrator = new Migrator({
      db: k,
      provider: { getMigrations: async () => stateMigrations },
      migrationTableSchema: stateSchema,
    });
    const upTo4 = await migrator.migrateTo('0004-stream-backoff-and-shared-quota');
    await k.destroy();
    expect(upTo4.error).toBeUndefined();
    await runs(db, 'acct', 'sync', 50, 1);
    const state = new StateStore(db.url);
    cleanups.push(() => state.close());
    expect(await state.migrate()).toEqual(['0005-history-indexes-and-retention']);
    const indexes = await db.query<{ indexname: string }>(
      `select indexname from pg_indexes where schemaname = $1 and indexname in
        ('runs_account_command_started_idx', 'runs_account_id_idx', 'exports_account_counted_idx',
         'exports_account_archived_idx', 'exports_account_stream_window_idx', 'rejected_rows_recorded_idx')
        order by indexname`,
      [s],
    );
    expect(indexes).toHaveLength(6);
    expect(await startsOf(db, 'acct', 'sync')).toHaveLength(50);
    const [comment] = await db.query<{ d: string }>(
      `select obj_description('${s}.runs'::regclass, 'pg_class') as d`,
    );
    expect(comment!.d).toMatch(/state\.runsKeepDays/);
  });

  it('every statement of the run log, quota, ledger and retention that a sync runs can use an index', async () => {
    const db = await createTestDatabase('cxone_retention');
    cleanups.push(() => db.drop());
    const sent: { text: string; values: readonly unknown[] }[] = [];
    const state = new StateStore(recording(createSqlPool(db.url, 2), sent));
    cleanups.push(() => state.close());
    await state.migrate();
    await runs(db, 'acct', 'sync', 20, 1);
    sent.length = 0;
    const limits = { perDay: 3, reserveForOthers: 0 };
    // What plan, status and every sync read of the growing tables (src/run, src/cli).
    await state.runs.previousStarts('acct', 'sync', '1');
    await state.runs.last('acct', 1);
    await state.quota.view('acct', limits, now);
    await state.quota.history('acct', now);
    await state.exports.unfinished('acct', ['copilot_kb']);
    await state.exports.archivedLoadedBefore('acct', now);
    await state.exports.loadedFor('acct', 'copilot_kb', { start: daysAgo(2), end: daysAgo(1) });
    await state.watermarks.gaps('acct');
    await pruneState(state, { accountKey: 'acct', retention }, now);
    const reads = sent.filter((q) => /^\s*(select|delete|update)/i.test(q.text));
    expect(reads.length).toBeGreaterThan(8);
    const pool = createSqlPool(db.url, 1);
    const client = await pool.connect();
    try {
      await client.query('set enable_seqscan = off');
      const seq: string[] = [];
      for (const q of reads) {
        const plan = await client.query(`explain ${q.text}`, q.values);
        const lines = (plan.rows as { 'QUERY PLAN': string }[]).map((r) => r['QUERY PLAN']);
        const scans = lines.filter((l) => /Seq Scan on (runs|exports|rejected_rows|gaps)\b/.test(l));
        if (scans.length) seq.push(`${q.text}\n  ${scans.join('\n  ')}`);
      }
      expect(seq).toEqual([]);
    } finally {
      client.release(true);
      await pool.end();
    }
  });
});

/** A pool whose clients append every statement they send to `sent`. */
function recording(pool: SqlPool, sent: { text: string; values: readonly unknown[] }[]): SqlPool {
  return {
    async connect(): Promise<SqlClient> {
      const client = await pool.connect();
      return {
        query(text: string, values?: readonly unknown[]) {
          sent.push({ text, values: values ?? [] });
          return client.query(text, values);
        },
        release: (destroy?: boolean) => client.release(destroy),
      };
    },
    end: () => pool.end(),
  };
}
