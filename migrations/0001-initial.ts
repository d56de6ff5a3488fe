import { type Kysely, sql } from 'kysely';

/**
 * The state store: export ledger (the persisted lifecycle of every export), watermarks, gaps,
 * runs, rejected rows and vendor quota blocks. No secret, token or signed URL is stored.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('exports')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('api_path', 'text', (c) => c.notNull())
    .addColumn('window_start', 'timestamptz', (c) => c.notNull())
    .addColumn('window_end', 'timestamptz', (c) => c.notNull())
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('request_body', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('counts_quota', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('reserved_at', 'timestamptz', (c) => c.notNull())
    .addColumn('submitted_at', 'timestamptz')
    .addColumn('vendor_export_id', 'text')
    .addColumn('status_url', 'text')
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('ready_at', 'timestamptz')
    .addColumn('download_host', 'text')
    .addColumn('archive_path', 'text')
    .addColumn('bytes', 'bigint')
    .addColumn('sha256', 'text')
    .addColumn('downloaded_at', 'timestamptz')
    .addColumn('rows', 'bigint')
    .addColumn('rejected_rows', 'bigint')
    .addColumn('loaded_at', 'timestamptz')
    .addColumn('error', 'text')
    .addColumn('retryable', 'boolean')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('claimed_by', 'text')
    .addColumn('claim_expires_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addCheckConstraint(
      'exports_status_check',
      sql`status in ('reserved', 'submitted', 'ready', 'downloaded', 'loaded', 'failed')`,
    )
    .execute();
  await db.schema
    .createIndex('exports_account_reserved_idx')
    .on('exports')
    .columns(['account', 'reserved_at'])
    .execute();
  await db.schema
    .createIndex('exports_stream_status_idx')
    .on('exports')
    .columns(['account', 'stream', 'status'])
    .execute();
  // At most one unfinished export per stream and window: a second process cannot request it again.
  await db.schema
    .createIndex('exports_open_window_uq')
    .on('exports')
    .columns(['account', 'stream', 'window_start', 'window_end'])
    .unique()
    .where(sql.ref('status'), 'in', ['reserved', 'submitted', 'ready', 'downloaded'])
    .execute();

  await db.schema
    .createTable('watermarks')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('watermark', 'timestamptz', (c) => c.notNull())
    .addColumn('export_id', 'bigint')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('watermarks_pk', ['account', 'stream'])
    .execute();

  await db.schema
    .createTable('gaps')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('gap_start', 'timestamptz', (c) => c.notNull())
    .addColumn('gap_end', 'timestamptz', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
    .addUniqueConstraint('gaps_uq', ['account', 'stream', 'gap_start', 'gap_end'])
    .execute();

  await db.schema
    .createTable('runs')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('command', 'text', (c) => c.notNull())
    .addColumn('account', 'text')
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ended_at', 'timestamptz')
    .addColumn('outcome', 'text')
    .addColumn('exit_code', 'integer')
    .addColumn('summary', 'jsonb')
    .execute();

  await db.schema
    .createTable('rejected_rows')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('export_id', 'bigint', (c) => c.notNull())
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('line', 'bigint', (c) => c.notNull())
    .addColumn('raw', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('rejected_rows_export_idx').on('rejected_rows').column('export_id').execute();

  await db.schema
    .createTable('quota_blocks')
    .addColumn('account', 'text', (c) => c.primaryKey())
    .addColumn('blocked_until', 'timestamptz', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['quota_blocks', 'rejected_rows', 'runs', 'gaps', 'watermarks', 'exports']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
