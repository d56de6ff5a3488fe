/**
 * The state store of a deployment that has run for a while, made by SQL (generate_series): the
 * history bench's data. The schema is the real one (the state store's own migrations); the rows
 * follow what a deployment writes:
 *
 * - the export ledger: per account, `exportsPer24h` 3 spent every 8 hours, the four streams taking
 *   turns, each window from the stream's previous request less the lookback (1 day) to its
 *   request less the settle time (15 minutes); 1 in 200 failed at the vendor, the rest loaded;
 *   archived files kept for the last 29 days only (`archive.keepDays` 30 pruned the rest);
 * - the run log of an hourly cron per account (1 in 10 deferred);
 * - 10 rejected rows for 1 export in 50;
 * - watermarks, one recorded gap per stream (the first sync's 4-month clamp), the schedule rows,
 *   an expired stream backoff for 1 account in 20 and an old quota block for 1 in 10.
 *
 * Account 1 is `benchAccount`, the one the bench's config names; the others are `tenant-NNN`.
 * Every time is relative to `now`, so the store looks current whenever it is made.
 */
import pg from 'pg';
import { StateStore } from '../src/state/state-store.js';

export interface HistoryShape {
  /** Accounts in the store (the first is `benchAccount`). */
  readonly accounts: number;
  /** Days of history. */
  readonly days: number;
  readonly benchAccount: string;
  readonly now: Date;
}

/** What was generated: rows per state table. */
export type HistoryCounts = Record<string, number>;

const s = 'cxone_od_sync';

/** Creates the state schema in the database at `url` (its migrations) and fills it. */
export async function generateHistory(url: string, shape: HistoryShape): Promise<HistoryCounts> {
  const store = new StateStore(url, 1);
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await db.query('set synchronous_commit = off');
    for (const statement of historyStatements(shape)) await db.query(statement);
    await db.query(`analyze`);
    const counts: HistoryCounts = {};
    for (const t of [
      'exports',
      'runs',
      'rejected_rows',
      'watermarks',
      'gaps',
      'stream_schedule',
      'stream_backoff',
      'quota_blocks',
    ]) {
      const r = await db.query<{ n: string }>(`select count(*) as n from ${s}.${t}`);
      counts[t] = Number(r.rows[0]!.n);
    }
    return counts;
  } finally {
    await db.end();
  }
}

/** The statements that fill the store, in order (the ledger first: the others derive from it). */
function historyStatements({ accounts, days, benchAccount, now }: HistoryShape): string[] {
  const nowLit = `'${now.toISOString()}'::timestamptz`;
  const exportsPerAccount = days * 3;
  const hours = days * 24;
  const accountName = (a: string) =>
    `(case when ${a} = 1 then '${benchAccount.replace(/'/g, "''")}' else 'tenant-' || lpad(${a}::text, 3, '0') end)`;
  const streams = `(values (0, 'copilot_kb', 'Copilot/KBTable'), (1, 'copilot_as', 'Copilot/ASTable'),
      (2, 'copilot_aq', 'Copilot/AQTable'), (3, 'autopilot_gr', 'AutopilotKnowledge/GRTable')) as st(i, stream, path)`;
  // Request k of account a at `t`: every 8 hours, each account at its own minute; the latest
  // between 1 and 9 hours ago (the bench account's 1 hour ago: nothing is due for it now).
  const requests = `select a, k, ${accountName('a')} as account,
        ${nowLit} - interval '1 hour' - (${exportsPerAccount - 1} - k) * interval '8 hours'
          - (((a - 1) * 137) % 28800) * interval '1 second' as t
      from generate_series(1, ${accounts}) a, generate_series(0, ${exportsPerAccount - 1}) k`;
  return [
    `insert into ${s}.exports (account, stream, api_path, window_start, window_end, time_zone,
        request_body, status, counts_quota, reserved_at, submitted_at, vendor_export_id, status_url,
        file_name, ready_at, download_host, archive_path, bytes, sha256, downloaded_at, rows,
        rejected_rows, loaded_at, error, retryable, attempts, failures, next_attempt_at, updated_at)
      select r.account, st.stream, st.path, w.ws, w.we, 'UTC',
        jsonb_build_object('startDate', w.ws, 'endDate', w.we - interval '1 millisecond',
          'timeZone', 'UTC', 'fileName', f.name),
        case when r.failed then 'failed' else 'loaded' end, true, r.t, r.t + interval '1 second', v.id,
        'https://api-na1.niceincontact.com/observabilitydashboard/v2/tables/export-data/' || v.id || '/status',
        f.name, r.t + interval '2 minutes', 'cxone-exports.s3.amazonaws.com',
        case when not r.failed and r.t > ${nowLit} - interval '29 days'
          then '/var/lib/cxone-od-sync/archive/' || r.account || '/' || f.name || '.csv' end,
        case when r.failed then null else n.rows * 230 end,
        case when r.failed then null else md5(v.id) || md5(f.name) end,
        case when r.failed then null else r.t + interval '3 minutes' end,
        case when r.failed then null else n.rows end,
        case when r.failed then null when (r.a + r.k) % 50 = 0 then 10 else 0 end,
        case when r.failed then null else r.t + interval '4 minutes' end,
        case when r.failed then 'the API reported the export failed (status Failed)' end,
        case when r.failed then false end, 1, case when r.failed then 1 else 0 end, null,
        r.t + interval '4 minutes'
      from (select *, (a * 31 + k) % 200 = 0 as failed from (${requests}) q) r
      join ${streams} on st.i = r.k % 4
      cross join lateral (select md5(r.a || '-' || r.k)::uuid::text as id) v
      cross join lateral (select 'cxone-od-sync-' || st.stream || '-' || to_char(r.t, 'YYYYMMDDHH24MISS') as name) f
      cross join lateral (select 200 + (r.a * 7919 + r.k * 104729) % 5000 as rows) n
      cross join lateral (select
          case when r.k < 4 then r.t - interval '4 months' + interval '1 day'
            else r.t - interval '32 hours' - interval '15 minutes' - interval '1 day' end as ws,
          r.t - interval '15 minutes' as we) w
      order by r.t`,
    `insert into ${s}.rejected_rows (export_id, export_key, stream, line, raw, reason, recorded_at)
      select e.id, e.export_key, e.stream, 1 + g * 37,
        '2026-01-01 00:00:00,6000000' || g || ',1001,Ana,Support,Billing,Voice,profile-abc123,sug-1,FAQ,Billing,Used,n/a,1,,12.5',
        'suggestions_shown: not an integer: "n/a"', e.loaded_at
      from ${s}.exports e, generate_series(1, 10) g
      where e.rejected_rows > 0`,
    `insert into ${s}.watermarks (account, stream, watermark, export_id, updated_at)
      select distinct on (account, stream) account, stream, window_end, id, loaded_at
      from ${s}.exports where status = 'loaded' order by account, stream, id desc`,
    `insert into ${s}.gaps (account, stream, gap_start, gap_end, reason, recorded_at)
      select distinct on (account, stream) account, stream, window_start - interval '90 days',
        window_start, 'older than the 4-month horizon when the stream was first planned', reserved_at
      from ${s}.exports order by account, stream, id`,
    `insert into ${s}.runs (command, account, started_at, ended_at, outcome, exit_code, summary)
      select 'sync', ${accountName('a')}, r.t, r.t + interval '14 seconds',
        case when r.deferred then 'deferred' else 'done' end, case when r.deferred then 75 else 0 end,
        case when r.deferred
          then '{"command":"sync","outcome":"deferred","exitCode":75,"exportsRequested":0,"rowsLoaded":0,"note":"quota spent"}'::jsonb
          else '{"command":"sync","outcome":"done","exitCode":0,"exportsRequested":0,"rowsLoaded":0}'::jsonb end
      from generate_series(0, ${hours - 1}) h, generate_series(1, ${accounts}) a
      cross join lateral (select ${nowLit} - ${hours} * interval '1 hour' + h * interval '1 hour'
          + ((a * 53) % 3000) * interval '1 second' as t, (h + a) % 10 = 0 as deferred) r`,
    `insert into ${s}.stream_schedule (account, stream, enabled, next_due_at, next_due_note, scheduled_at)
      select account, stream, true, watermark + interval '32 hours', null, ${nowLit} - interval '30 minutes'
      from ${s}.watermarks`,
    `insert into ${s}.stream_backoff (account, stream, reason, failures, first_failed_at, last_failed_at,
        next_attempt_at, error, request_key)
      select account, 'copilot_aq', 'vendor_failed', 1, ${nowLit} - interval '40 days',
        ${nowLit} - interval '40 days', ${nowLit} - interval '39 days',
        'the API reported the export failed (status Failed)', 'Copilot/AQTable|UTC||'
      from (select distinct account from ${s}.watermarks) a
      where substr(md5(account), 1, 1) in ('0')`,
    `insert into ${s}.quota_blocks (account, blocked_until, reason, recorded_at, refusals, others_used)
      select account, ${nowLit} - interval '60 days', 'Too many export requests', ${nowLit} - interval '60 days', 0, 0
      from (select distinct account from ${s}.watermarks) a
      where substr(md5(account), 1, 1) in ('1', '2')`,
  ];
}
