import { type Kysely, sql } from 'kysely';
import { freshnessViewDoc, type RelationDoc, stateTableDocs } from './state-docs.js';

/** The state schema, as src/state names it (a migration imports nothing outside migrations/). */
const schema = 'cxone_od_sync';
const rel = (name: string) => sql.id(schema, name);

/** `stream_backoff`, as this migration creates and documents it. */
export const streamBackoffDoc: RelationDoc = {
  description:
    "Per account and stream: a stream the API refuses (the table not exposed to the tenant, another 4xx) or whose exports keep failing at the vendor, backed off on its own so that the other streams get the quota. Cleared when the stream works again, by `unblock --stream`, or by a change of the stream's request settings.",
  columns: {
    account: 'Account key.',
    stream: 'Stream (destination table name).',
    reason:
      "Why: not_exposed (HTTP 403 or 404 on the table, or a refusal saying it is not there: the tenant does not have it, or the access key may not read it), refused (another 4xx, such as a filter the API rejects), or vendor_failed (the API reported the stream's exports failed).",
    failures: 'Failures in a row; drives the backoff (doubling, at most a day).',
    first_failed_at: 'When the first of those failures happened.',
    last_failed_at: 'When the latest happened.',
    next_attempt_at: 'No request of the stream is sent before this time.',
    error: "The latest error (the API's message, redacted).",
    request_key:
      'The request settings the failures were seen with (API path, time zone, channels, filters): a config that changes them clears the backoff.',
  },
};

/** The columns this migration adds to `quota_blocks`. */
const quotaBlockColumns: Readonly<Record<string, string>> = {
  refusals:
    'Quota refusals in a row (reset when the API accepts a request): the wait before the API is asked again doubles with each, from 15 minutes.',
  others_used:
    'Slots of exportsPer24h that someone else (a person in the dashboard, another tool) was seen to hold at the latest refusal: the connector leaves that many free until others_seen_until.',
  others_seen_until:
    "How long the connector keeps leaving others_used slots free; null: nobody else's use is known.",
};

/** The columns this migration adds to the freshness view. */
const freshnessColumns: Readonly<Record<string, string>> = {
  backoff_reason:
    'Why the stream is backed off (not_exposed, refused, vendor_failed; see stream_backoff); null when it is not.',
  backoff_until: 'No export of the stream is requested before this time; null when it is not backed off.',
  backoff_failures: 'Failures in a row that caused the backoff.',
  backoff_error: "The latest error of the backoff (the API's message).",
};

/** What the state tables mean from this migration on (for `dbt-sources` and the comments). */
export const stateTableDocsV4: Readonly<Record<string, RelationDoc>> = {
  ...stateTableDocs,
  quota_blocks: {
    description:
      'Per account: the latest quota refusal by the API (HTTP 400 "too many export requests"), what it taught about the use of the quota by others, and when the API may be asked again.',
    columns: {
      ...stateTableDocs.quota_blocks!.columns,
      blocked_until:
        'No export request is sent for the account before this time (15 minutes after the first refusal, doubling with each refusal in a row).',
      ...quotaBlockColumns,
    },
  },
  stream_backoff: streamBackoffDoc,
};

/** The freshness view from this migration on. */
export const freshnessViewDocV4: RelationDoc = {
  description: `${freshnessViewDoc.description} A stream the API refuses, or whose exports keep failing at the vendor, shows its backoff.`,
  columns: { ...freshnessViewDoc.columns, ...freshnessColumns },
};

/**
 * Failure isolation per stream and a quota shared with people (issue 25):
 * - `stream_backoff`: a stream the API refuses, or whose exports fail at the vendor, waits on
 *   its own while the other streams take its slots.
 * - `quota_blocks` learns from a quota refusal: the refusals in a row (the wait before asking
 *   again doubles), and the slots someone else holds, left free for some days.
 * - the freshness view gains the backoff of each stream (new columns at the end).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('stream_backoff')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) =>
      c.notNull().check(sql`reason in ('not_exposed', 'refused', 'vendor_failed')`),
    )
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('first_failed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_failed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull())
    .addColumn('error', 'text', (c) => c.notNull())
    .addColumn('request_key', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('stream_backoff_pk', ['account', 'stream'])
    .execute();

  await db.schema
    .alterTable('quota_blocks')
    .addColumn('refusals', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('quota_blocks')
    .addColumn('others_used', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('quota_blocks').addColumn('others_seen_until', 'timestamptz').execute();

  await freshnessView(db, { backoff: true });

  await comment(db, 'table', 'stream_backoff', streamBackoffDoc.description, streamBackoffDoc.columns);
  await comment(db, 'table', 'quota_blocks', stateTableDocsV4.quota_blocks!.description, {
    blocked_until: stateTableDocsV4.quota_blocks!.columns.blocked_until!,
    ...quotaBlockColumns,
  });
  await comment(db, 'view', 'freshness', freshnessViewDocV4.description, freshnessColumns);
}

/**
 * The freshness view: migration 0003's columns unchanged and in order, and with `backoff` the
 * stream's backoff at the end (so that `create or replace` keeps what reads the view working).
 */
async function freshnessView(db: Kysely<unknown>, options: { backoff: boolean }): Promise<void> {
  const unfinished = sql.join(['reserved', 'submitted', 'ready', 'downloaded'].map((s) => sql.lit(s)));
  const backoffColumns = options.backoff
    ? sql`,
      b.reason as backoff_reason,
      b.next_attempt_at as backoff_until,
      b.failures as backoff_failures,
      b.error as backoff_error`
    : sql``;
  const backoffJoin = options.backoff
    ? sql`left join ${rel('stream_backoff')} b
        on b.account = k.account and b.stream = k.stream and b.next_attempt_at > now()`
    : sql``;
  await sql`create or replace view ${rel('freshness')} as
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
      f.exports_in_flight${backoffColumns}
    from keys k
    left join ${rel('stream_schedule')} s on s.account = k.account and s.stream = k.stream
    left join ${rel('watermarks')} w on w.account = k.account and w.stream = k.stream
    ${backoffJoin}
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
}

async function comment(
  db: Kysely<unknown>,
  kind: 'table' | 'view',
  name: string,
  description: string,
  columns: Readonly<Record<string, string>>,
) {
  await sql`comment on ${sql.raw(kind)} ${rel(name)} is ${sql.lit(description)}`.execute(db);
  for (const [column, text] of Object.entries(columns)) {
    await sql`comment on column ${sql.id(schema, name, column)} is ${sql.lit(text)}`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // `create or replace` cannot drop columns: the view of 0003 is made anew.
  await sql`drop view if exists ${rel('freshness')}`.execute(db);
  await freshnessView(db, { backoff: false });
  await db.schema.alterTable('quota_blocks').dropColumn('others_seen_until').execute();
  await db.schema.alterTable('quota_blocks').dropColumn('others_used').execute();
  await db.schema.alterTable('quota_blocks').dropColumn('refusals').execute();
  await db.schema.dropTable('stream_backoff').ifExists().execute();
}
