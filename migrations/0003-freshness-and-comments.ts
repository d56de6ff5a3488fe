import { type Kysely, sql } from 'kysely';
import { freshnessViewDoc, type RelationDoc, stateTableDocs } from './state-docs.js';

/** The state schema, as src/state names it (a migration imports nothing outside migrations/). */
const schema = 'cxone_od_sync';
const rel = (name: string) => sql.id(schema, name);

/**
 * For analysts and dashboards:
 * - `export_key` on the ledger (generated from the vendor's export id, or `local-<id>` for a
 *   file loaded by hand) and on `rejected_rows` (filled in for the rows already there): the
 *   value destination rows carry as `_export_id`, so one key joins a row, its ledger entry and
 *   its rejected rows. No destination row changes.
 * - `stream_schedule`: per account and stream, whether the config enables it and the
 *   scheduler's next due time, written by `migrate` and at the end of every sync.
 * - the `freshness` view over those and the ledger, gaps and watermarks.
 * - a comment on every state table, view and column (`state-docs.ts`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table ${rel('exports')} add column export_key text not null
    generated always as (coalesce(vendor_export_id, 'local-' || id::text)) stored`.execute(db);
  await db.schema.createIndex('exports_export_key_idx').on('exports').column('export_key').execute();

  await db.schema.alterTable('rejected_rows').addColumn('export_key', 'text').execute();
  await sql`update ${rel('rejected_rows')} r set export_key = e.export_key
    from ${rel('exports')} e where e.id = r.export_id`.execute(db);
  await db.schema
    .createIndex('rejected_rows_export_key_idx')
    .on('rejected_rows')
    .column('export_key')
    .execute();

  await db.schema
    .createTable('stream_schedule')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('enabled', 'boolean', (c) => c.notNull())
    .addColumn('next_due_at', 'timestamptz')
    .addColumn('next_due_note', 'text')
    .addColumn('scheduled_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('stream_schedule_pk', ['account', 'stream'])
    .execute();

  const unfinished = sql.join(['reserved', 'submitted', 'ready', 'downloaded'].map((s) => sql.lit(s)));
  await sql`create view ${rel('freshness')} as
    with keys as (
      select account, stream from ${rel('stream_schedule')}
      union select account, stream from ${rel('watermarks')}
      union select account, stream from ${rel('exports')}
    )
    select
      k.account,
      k.stream,
      s.enabled,
      w.watermark,
      now() - w.watermark as lag,
      round((extract(epoch from now() - w.watermark) / 3600)::numeric, 2) as lag_hours,
      s.next_due_at,
      s.next_due_note,
      s.scheduled_at,
      le.id as last_export_id,
      le.export_key as last_export_key,
      le.status as last_export_status,
      coalesce(le.submitted_at, le.reserved_at) as last_export_requested_at,
      le.error as last_export_error,
      ll.id as last_load_id,
      ll.export_key as last_load_export_key,
      ll.loaded_at as last_loaded_at,
      ll.window_start as last_load_window_start,
      ll.window_end as last_load_window_end,
      ll.rows as last_load_rows,
      ll.rejected_rows as last_load_rejected_rows,
      g.open_gaps,
      g.open_gap_span,
      f.exports_in_flight
    from keys k
    left join ${rel('stream_schedule')} s on s.account = k.account and s.stream = k.stream
    left join ${rel('watermarks')} w on w.account = k.account and w.stream = k.stream
    left join lateral (
      select e.* from ${rel('exports')} e
      where e.account = k.account and e.stream = k.stream
      order by e.id desc limit 1
    ) le on true
    left join lateral (
      select e.* from ${rel('exports')} e
      where e.account = k.account and e.stream = k.stream and e.status = 'loaded'
      order by e.loaded_at desc, e.id desc limit 1
    ) ll on true
    left join lateral (
      select count(*) as open_gaps, sum(gp.gap_end - gp.gap_start) as open_gap_span
      from ${rel('gaps')} gp
      where gp.account = k.account and gp.stream = k.stream
        and not exists (
          select 1 from ${rel('exports')} e
          where e.account = gp.account and e.stream = gp.stream and e.status = 'loaded'
            and e.window_start <= gp.gap_start and e.window_end >= gp.gap_end
        )
    ) g on true
    left join lateral (
      select count(*) as exports_in_flight from ${rel('exports')} e
      where e.account = k.account and e.stream = k.stream and e.status in (${unfinished})
    ) f on true`.execute(db);

  for (const [table, doc] of Object.entries(stateTableDocs)) await comment(db, 'table', table, doc);
  await comment(db, 'view', 'freshness', freshnessViewDoc);
}

async function comment(db: Kysely<unknown>, kind: 'table' | 'view', name: string, doc: RelationDoc) {
  await sql`comment on ${sql.raw(kind)} ${rel(name)} is ${sql.lit(doc.description)}`.execute(db);
  for (const [column, text] of Object.entries(doc.columns)) {
    await sql`comment on column ${sql.id(schema, name, column)} is ${sql.lit(text)}`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop view if exists ${rel('freshness')}`.execute(db);
  await db.schema.dropTable('stream_schedule').ifExists().execute();
  await db.schema.alterTable('rejected_rows').dropColumn('export_key').execute();
  await db.schema.alterTable('exports').dropColumn('export_key').execute();
}
