import type { Kysely } from 'kysely';

/**
 * Per-export backoff: `failures` counts consecutive failures of the same export that a retry did
 * not cure, and `next_attempt_at` is when a sync may try it again (null: at once). A row in
 * backoff is skipped by the resume step and reported, instead of being retried by every sync.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('exports')
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('exports').addColumn('next_attempt_at', 'timestamptz').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('exports').dropColumn('next_attempt_at').execute();
  await db.schema.alterTable('exports').dropColumn('failures').execute();
}
