import type { ColumnType } from '../../src/model/stream-schema.js';

/** A field of a BigQuery table schema (REST `TableFieldSchema`). */
export interface BigQueryField {
  readonly name: string;
  readonly type: 'TIMESTAMP' | 'STRING' | 'INT64' | 'FLOAT64' | 'BOOL';
  readonly mode: 'NULLABLE' | 'REQUIRED';
  readonly description: string;
}

/** The GoogleSQL type of each column type. */
export const bigQueryTypes: Record<ColumnType, BigQueryField['type']> = {
  timestamp: 'TIMESTAMP',
  integer: 'INT64',
  number: 'FLOAT64',
  boolean: 'BOOL',
  text: 'STRING',
};
