/**
 * A stream is data: its name (the warehouse table), the API paths that export it, the request
 * options its table accepts, its columns and its event-time column. A new stream is a new file
 * in `schemas/` and one line in `schemas/index.ts`.
 */

export type ColumnType = 'timestamp' | 'text' | 'integer' | 'number' | 'boolean';

export interface ColumnSpec {
  /** Warehouse column name (snake_case). */
  readonly name: string;
  readonly type: ColumnType;
  /** CSV headers that map to this column: the dashboard's display name first, then aliases. */
  readonly headers: readonly string[];
  /** Documentation, used for column comments and `streams`. */
  readonly description: string;
  /** False only for the event time: a row without it is rejected. */
  readonly nullable?: boolean;
}

export interface StreamSchema {
  readonly name: string;
  readonly description: string;
  /** API table paths; the first is the default, the others are alternatives chosen by config. */
  readonly apiPaths: readonly [string, ...string[]];
  readonly accepts: {
    readonly channels: boolean;
    readonly filters: readonly string[];
  };
  readonly eventTime: string;
  readonly columns: readonly ColumnSpec[];
  /** Columns to index or cluster by besides the event time. */
  readonly clusterBy?: readonly string[];
}

/** Metadata columns every destination table carries, after the stream's own columns. */
export const metadataColumns = [
  {
    name: '_export_id',
    type: 'text',
    description:
      "The export that loaded this row: the vendor's export id, or local-<ledger id> for a file loaded by load-file. The state store's exports.export_key and rejected_rows.export_key hold the same value: join a row to its ledger entry and its rejected rows on it.",
  },
  { name: '_window_start', type: 'timestamp', description: 'Start (inclusive, UTC) of the loaded window.' },
  { name: '_window_end', type: 'timestamp', description: 'End (exclusive, UTC) of the loaded window.' },
  { name: '_loaded_at', type: 'timestamp', description: 'When the row was committed.' },
  { name: '_source_line', type: 'integer', description: 'Line number of the record in the raw CSV.' },
  {
    name: '_account',
    type: 'text',
    description:
      "The CXone account the row came from: its key in the connector's config (accounts: map key, or account.name). A window's replace touches only that account's rows.",
  },
] as const satisfies readonly { name: string; type: ColumnType; description: string }[];

export type MetadataColumn = (typeof metadataColumns)[number];

/**
 * The metadata columns in the order a load sends them, after the file's columns: the record's
 * line, then the values constant for the load (`_export_id`, `_window_start`, `_window_end`,
 * `_loaded_at`, `_account`).
 */
export const loadMetadataColumns: readonly MetadataColumn[] = [
  '_source_line',
  '_export_id',
  '_window_start',
  '_window_end',
  '_loaded_at',
  '_account',
].map((name) => metadataColumns.find((c) => c.name === name) as MetadataColumn);

/**
 * Whether a column of the stream's table is never null: the event time, `_export_id` and
 * `_account`. Every destination's DDL and the rows' JSON schema (`streams --json`) read it here.
 */
export function requiredColumn(stream: Pick<StreamSchema, 'eventTime'>, name: string): boolean {
  return name === stream.eventTime || name === '_export_id' || name === '_account';
}

/** The description of a stream's destination table (a comment in PostgreSQL, BigQuery's, dbt's). */
export function tableDescription(stream: StreamSchema): string {
  return `${stream.description} Loaded by cxone-od-sync; replaced per export window and account.`;
}
