import { type Kysely, sql } from 'kysely';
import { stateTableDocsV4 } from './0004-stream-backoff-and-shared-quota.js';
import type { RelationDoc } from './state-docs.js';

/** The state schema, as src/state names it (a migration imports nothing outside migrations/). */
const schema = 'cxone_od_sync';
const rel = (name: string) => sql.id(schema, name);

/** What the tables that grow with the deployment's age say from this migration on. */
const tableDescriptions: Readonly<Record<string, string>> = {
  exports: `${stateTableDocsV4.exports!.description} Kept for ever: it is the history of every window requested, and what the quota and replay read.`,
  runs: 'One row per run of sync, exports retry, exports abandon, unblock and prune: when, for which account, how it ended. Kept state.runsKeepDays days (pruned by sync and by prune), and the latest 10 runs of each account and command always.',
  rejected_rows: `${stateTableDocsV4.rejected_rows!.description} Kept state.rejectedRowsKeepDays days after the load that set them aside (pruned by sync and by prune).`,
};

/** The column whose meaning this migration widens. */
const runsCommand = 'The command: sync, exports retry, exports abandon, unblock or prune.';

/** What the state tables mean from this migration on (for `dbt-sources` and the comments). */
export const stateTableDocsV5: Readonly<Record<string, RelationDoc>> = Object.fromEntries(
  Object.entries(stateTableDocsV4).map(([name, doc]) => {
    const described = tableDescriptions[name] ? { ...doc, description: tableDescriptions[name] } : doc;
    return [
      name,
      name === 'runs' ? { ...described, columns: { ...doc.columns, command: runsCommand } } : described,
    ];
  }),
);

/** The new indexes, with what each is for (written as their comments). */
const indexes: readonly { name: string; on: string; definition: string; doc: string }[] = [
  {
    name: 'runs_account_command_started_idx',
    on: 'runs',
    definition: '(account, command, started_at)',
    doc: "The account's latest runs of a command (how often sync is run: the scheduler's cadence, read by every sync and plan), and the run log's retention.",
  },
  {
    name: 'runs_account_id_idx',
    on: 'runs',
    definition: '(account, id)',
    doc: "The account's last run (status).",
  },
  {
    name: 'exports_account_counted_idx',
    on: 'exports',
    definition:
      "(account, (coalesce(submitted_at, case when status = 'failed' then updated_at end, reserved_at)))",
    doc: "The account's requests counted against the rolling 24-hour quota, by the instant the vendor may have counted each (the quota and the scheduler's history, read by every sync, plan and status).",
  },
  {
    name: 'exports_account_archived_idx',
    on: 'exports',
    definition: '(account, loaded_at) where archive_path is not null',
    doc: 'Loaded exports whose raw file is still archived (the archive.keepDays prune at the end of every sync).',
  },
  {
    name: 'exports_account_stream_window_idx',
    on: 'exports',
    definition: '(account, stream, window_start, window_end)',
    doc: 'An exact window of a stream already loaded (a sync of an explicit window: an orchestrator rerun).',
  },
  {
    name: 'rejected_rows_recorded_idx',
    on: 'rejected_rows',
    definition: '(recorded_at)',
    doc: 'The retention of rejected rows (state.rejectedRowsKeepDays).',
  },
];

/**
 * What a deployment years old needs (issue 22): the indexes of every statement that plan,
 * status and sync run on each cron tick, so that none reads a table whole as the ledger and the
 * run log grow; and the table comments that tell the retention of each growing table (the run
 * log and rejected rows are pruned; the export ledger is kept for ever).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const i of indexes) {
    await sql`create index if not exists ${sql.id(i.name)} on ${rel(i.on)} ${sql.raw(i.definition)}`.execute(
      db,
    );
    await sql`comment on index ${sql.id(schema, i.name)} is ${sql.lit(i.doc)}`.execute(db);
  }
  for (const [table, description] of Object.entries(tableDescriptions))
    await sql`comment on table ${rel(table)} is ${sql.lit(description)}`.execute(db);
  await sql`comment on column ${sql.id(schema, 'runs', 'command')} is ${sql.lit(runsCommand)}`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const i of indexes) await sql`drop index if exists ${sql.id(schema, i.name)}`.execute(db);
  for (const table of Object.keys(tableDescriptions))
    await sql`comment on table ${rel(table)} is ${sql.lit(stateTableDocsV4[table]!.description)}`.execute(db);
  await sql`comment on column ${sql.id(schema, 'runs', 'command')} is ${sql.lit(stateTableDocsV4.runs!.columns.command!)}`.execute(
    db,
  );
}
