import type { ColumnType } from '../../src/model/stream-schema.js';

/**
 * The PostgreSQL type of each column type, by the name `format_type` prints: the DDL creates
 * columns of these types, and a load sends the binary COPY format only when the table's columns
 * still have exactly them (a column changed by hand gets CSV, which the server converts).
 */
export const postgresTypes = {
  timestamp: 'timestamp with time zone',
  integer: 'bigint',
  number: 'double precision',
  boolean: 'boolean',
  text: 'text',
} as const satisfies Record<ColumnType, string>;
