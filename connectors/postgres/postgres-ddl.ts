import {
  type ColumnSpec,
  metadataColumns,
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

/** The statements that create a stream's table: typed columns, comments, event-time index. */
export function createTableStatements(schemaName: string, stream: StreamSchema): string[] {
  const table = qualified(schemaName, stream.name);
  const cols = [...stream.columns, ...metadataColumns].map((c) => {
    const notNull = c.name === stream.eventTime || c.name === '_export_id' ? ' not null' : '';
    return `  ${quoteIdent(c.name)} ${postgresTypes[c.type]}${notNull}`;
  });
  const stmts = [
    `create schema if not exists ${quoteIdent(schemaName)}`,
    `create table if not exists ${table} (\n${cols.join(',\n')}\n)`,
    `comment on table ${table} is ${quoteLiteral(tableDescription(stream))}`,
    `create index if not exists ${quoteIdent(`${stream.name}_${stream.eventTime}_idx`)} on ${table} (${quoteIdent(stream.eventTime)})`,
  ];
  for (const c of [...stream.columns, ...metadataColumns]) {
    stmts.push(`comment on column ${table}.${quoteIdent(c.name)} is ${quoteLiteral(c.description)}`);
  }
  return stmts;
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
