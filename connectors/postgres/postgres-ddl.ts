import {
  type ColumnSpec,
  metadataColumns,
  requiredColumn,
  type StreamSchema,
  tableDescription,
} from '../../src/model/stream-schema.js';
import { postgresTypes } from './postgres-types.js';

/** Quotes an identifier for PostgreSQL; nothing is concatenated into SQL unquoted. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a string literal (for COMMENT, which takes no parameters). */
export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** A table of a schema, both quoted. */
export function qualified(schemaName: string, table: string): string {
  return `${quoteIdent(schemaName)}.${quoteIdent(table)}`;
}

/**
 * The statement `ensureTable` runs first for every missing table; `check` runs it too, rolled back,
 * so that the server's own rules on the name (the prefix `pg_` is reserved) and on privileges
 * (CREATE on the database, even for a schema that exists) refuse it there as they would here.
 */
export function createSchemaStatement(schemaName: string): string {
  return `create schema if not exists ${quoteIdent(schemaName)}`;
}

/**
 * The statements that create a stream's table (when it is missing): typed columns, the table's
 * and the columns' comments, the event-time index and the (`_account`, event time) index.
 */
export function createTableStatements(schemaName: string, stream: StreamSchema): string[] {
  const table = qualified(schemaName, stream.name);
  const cols = [...stream.columns, ...metadataColumns].map((c) => {
    const notNull = requiredColumn(stream, c.name) ? ' not null' : '';
    return `  ${quoteIdent(c.name)} ${postgresTypes[c.type]}${notNull}`;
  });
  return [
    createSchemaStatement(schemaName),
    `create table if not exists ${table} (\n${cols.join(',\n')}\n)`,
    `comment on table ${table} is ${quoteLiteral(tableDescription(stream))}`,
    `create index if not exists ${quoteIdent(`${stream.name}_${stream.eventTime}_idx`)} on ${table} (${quoteIdent(stream.eventTime)})`,
    accountIndexStatement(schemaName, stream, false),
    ...columnCommentStatements(schemaName, stream),
  ];
}

/** A comment on every column of the stream's table (its own columns and the metadata). */
export function columnCommentStatements(schemaName: string, stream: StreamSchema): string[] {
  const table = qualified(schemaName, stream.name);
  return [...stream.columns, ...metadataColumns].map(
    (c) => `comment on column ${table}.${quoteIdent(c.name)} is ${quoteLiteral(c.description)}`,
  );
}

/** The (`_account`, event time) index's name, schema-qualified and quoted. */
export function accountIndexName(schemaName: string, stream: StreamSchema): string {
  return qualified(schemaName, `${stream.name}_account_${stream.eventTime}_idx`);
}

/**
 * The index a window's replace and an analyst's per-account query use. `concurrently`: built
 * without blocking writers or readers (a table that already holds rows; outside a transaction).
 */
export function accountIndexStatement(
  schemaName: string,
  stream: StreamSchema,
  concurrently: boolean,
): string {
  return `create index ${concurrently ? 'concurrently ' : ''}if not exists ${quoteIdent(`${stream.name}_account_${stream.eventTime}_idx`)} on ${qualified(schemaName, stream.name)} (${quoteIdent('_account')}, ${quoteIdent(stream.eventTime)})`;
}

/**
 * A table made before `_account` gains it without a rewrite: a constant default fills every
 * existing row at once (PostgreSQL 11+ stores it in the catalog), then the default goes, so a
 * load must always say its account.
 */
export function addAccountColumnStatements(
  schemaName: string,
  stream: StreamSchema,
  account: string,
): string[] {
  const table = qualified(schemaName, stream.name);
  const column = metadataColumns.find((c) => c.name === '_account')!;
  return [
    `alter table ${table} add column if not exists ${quoteIdent('_account')} text not null default ${quoteLiteral(account)}`,
    `alter table ${table} alter column ${quoteIdent('_account')} drop default`,
    `comment on column ${table}.${quoteIdent('_account')} is ${quoteLiteral(column.description)}`,
  ];
}

/** The statements that add columns found by drift to a stream's table, with their comments. */
export function addColumnStatements(
  schemaName: string,
  stream: StreamSchema,
  added: readonly ColumnSpec[],
): string[] {
  const table = qualified(schemaName, stream.name);
  return added.flatMap((c) => [
    `alter table ${table} add column if not exists ${quoteIdent(c.name)} ${postgresTypes[c.type]}`,
    `comment on column ${table}.${quoteIdent(c.name)} is ${quoteLiteral(c.description)}`,
  ]);
}
