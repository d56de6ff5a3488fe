import { createHash } from 'node:crypto';
import {
  type ColumnSpec,
  loadMetadataColumns,
  type MetadataColumn,
  metadataColumns,
  requiredColumn,
  type StreamSchema,
  tableDescription,
} from '../../src/model/stream-schema.js';
import type { Window } from '../../src/model/window.js';
import { type BigQueryField, bigQueryTypes } from './bigquery-types.js';

/** The parts of a REST `Table` resource this connector sets. */
export interface BigQueryTableDefinition {
  readonly description: string;
  readonly schema: { fields: BigQueryField[] };
  readonly timePartitioning: { readonly type: 'DAY'; readonly field: string };
  readonly clustering?: { fields: string[] };
}

/** BigQuery clusters by at most four columns. */
const maxClusteringFields = 4;

/** BigQuery column names: letters, digits, underscores, not starting with a digit, at most 300. */
const columnName = /^[A-Za-z_][A-Za-z0-9_]{0,299}$/;

/** Quotes an identifier path for GoogleSQL; refuses what backticks cannot safely hold. */
export function quoteBq(...parts: string[]): string {
  for (const p of parts) {
    if (!/^[A-Za-z0-9_.:-]+$/.test(p))
      throw new Error(`not a valid BigQuery identifier: ${JSON.stringify(p)}`);
  }
  return `\`${parts.join('.')}\``;
}

/** A column as a BigQuery field; the event time, `_export_id` and `_account` are required. */
function bigQueryField(stream: StreamSchema, c: ColumnSpec | MetadataColumn): BigQueryField {
  if (!columnName.test(c.name))
    throw new Error(`not a valid BigQuery column name: ${JSON.stringify(c.name)}`);
  const required = requiredColumn(stream, c.name);
  return {
    name: c.name,
    type: bigQueryTypes[c.type],
    mode: required ? 'REQUIRED' : 'NULLABLE',
    description: c.description.slice(0, 1024),
  };
}

/** Every field of the stream's table: its columns, columns added by drift, then the metadata columns. */
export function tableFields(stream: StreamSchema, added: readonly ColumnSpec[] = []): BigQueryField[] {
  return [...stream.columns, ...added, ...metadataColumns].map((c) => bigQueryField(stream, c));
}

/** The fields of a load, in the order its rows carry them: the file's columns, then the metadata. */
export function loadFields(stream: StreamSchema, columns: readonly ColumnSpec[]): BigQueryField[] {
  return [...columns, ...loadMetadataColumns].map((c) => bigQueryField(stream, c));
}

/**
 * The table a stream lands in: typed and described columns, partitioned by day of the event
 * time (a window's replace touches only its days), clustered by `_account` and the stream's
 * usual filters.
 */
export function tableDefinition(
  stream: StreamSchema,
  added: readonly ColumnSpec[] = [],
): BigQueryTableDefinition {
  const cluster = clusteringFields(stream);
  return {
    description: tableDescription(stream),
    schema: { fields: tableFields(stream, added) },
    timePartitioning: { type: 'DAY', field: stream.eventTime },
    ...(cluster.length ? { clustering: { fields: cluster } } : {}),
  };
}

/** The clustering of a stream's table: `_account` first (a replace and most queries filter on it). */
export function clusteringFields(stream: StreamSchema): string[] {
  return ['_account', ...(stream.clusterBy ?? [])].slice(0, maxClusteringFields);
}

/** A GoogleSQL string literal. */
export function stringLiteral(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * Fills `_account` of the rows a table held before it had the column (BigQuery adds a column
 * as NULLABLE, empty in every existing row): one DML statement, which readers never wait for.
 */
export function fillAccountStatement(
  projectId: string,
  dataset: string,
  table: string,
  account: string,
): string {
  return `UPDATE ${quoteBq(projectId, dataset, table)} SET ${quoteBq('_account')} = ${stringLiteral(account)} WHERE ${quoteBq('_account')} IS NULL`;
}

/** Fields of `wanted` that `existing` lacks (drift `evolve`, or metadata added by a later version). */
export function missingFields(
  existing: readonly { name: string }[],
  wanted: readonly BigQueryField[],
): BigQueryField[] {
  const have = new Set(existing.map((f) => f.name.toLowerCase()));
  return wanted.filter((f) => !have.has(f.name.toLowerCase()));
}

/** A short, stable, identifier-safe key for a vendor export id (which may hold any character). */
export function exportSlug(exportKey: string): string {
  return createHash('sha256').update(exportKey).digest('hex').slice(0, 16);
}

/** The staging table of one export's load: one per stream, account and export, so loads never share one. */
export function stagingTableId(stream: StreamSchema, account: string, exportKey: string): string {
  return `_cxone_od_sync_stage_${stream.name}_${exportSlug(`${account}\n${exportKey}`)}`;
}

/**
 * Job ids of one load attempt: derived from the export and the attempt's `loadedAt`, so a retry
 * of the same attempt (a lost response) finds its job again (409) instead of starting another.
 */
export function loadJobIds(
  dataset: string,
  stream: StreamSchema,
  account: string,
  exportKey: string,
  loadedAt: Date,
): { load: string; replace: string } {
  const base = `${dataset}_${stream.name}_${exportSlug(`${account}\n${exportKey}`)}_${loadedAt.getTime().toString(36)}`;
  return { load: `cxone_od_sync_load_${base}`, replace: `cxone_od_sync_replace_${base}` };
}

function timestampLiteral(d: Date): string {
  return `TIMESTAMP '${d.toISOString()}'`;
}

/**
 * The replace step, one multi-statement transaction: the account's rows of the window go, the staged rows come
 * in, and readers see either the old window or the new one. The window bounds are the planner's
 * own instants, written as literals (they are never user text).
 */
export function replaceWindowScript(opts: {
  readonly projectId: string;
  readonly dataset: string;
  readonly table: string;
  readonly staging: string;
  readonly eventTime: string;
  readonly columns: readonly string[];
  readonly window: Window;
  readonly account: string;
}): string {
  const target = quoteBq(opts.projectId, opts.dataset, opts.table);
  const staging = quoteBq(opts.projectId, opts.dataset, opts.staging);
  const evt = quoteBq(opts.eventTime);
  const cols = opts.columns.map((c) => quoteBq(c)).join(', ');
  return [
    'BEGIN TRANSACTION;',
    `DELETE FROM ${target} WHERE ${quoteBq('_account')} = ${stringLiteral(opts.account)} AND ${evt} >= ${timestampLiteral(opts.window.start)} AND ${evt} < ${timestampLiteral(opts.window.end)};`,
    `INSERT INTO ${target} (${cols}) SELECT ${cols} FROM ${staging};`,
    'COMMIT TRANSACTION;',
  ].join('\n');
}
