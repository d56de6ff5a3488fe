import { describe, expect, it } from 'vitest';
import { tableFields } from '../../connectors/bigquery/bigquery-ddl.js';
import { createTableStatements } from '../../connectors/postgres/postgres-ddl.js';
import { streamSchemas } from '../../schemas/index.js';
import { rowJsonSchema } from '../../src/model/row-schema.js';
import { metadataColumns } from '../../src/model/stream-schema.js';

/** The columns a JSON schema lets be null. */
function nullableInJson(stream: (typeof streamSchemas)[number]): string[] {
  const schema = rowJsonSchema(stream) as { properties: Record<string, { anyOf?: { type?: string }[] }> };
  return Object.entries(schema.properties)
    .filter(([, p]) => p.anyOf?.some((a) => a.type === 'null'))
    .map(([name]) => name)
    .sort();
}

describe('row JSON schema (streams --json)', () => {
  it.each(streamSchemas.map((s) => [s.name, s] as const))(
    '%s: a column may be null in JSON exactly where both destinations let it be null',
    (_name, stream) => {
      const create = createTableStatements('cxone', stream).find((s) => s.startsWith('create table'))!;
      const columns = [...stream.columns, ...metadataColumns].map((c) => c.name);
      const nullableInPostgres = columns
        .filter((c) => !new RegExp(`"${c}" [a-z ]+ not null`).test(create))
        .sort();
      const nullableInBigQuery = tableFields(stream)
        .filter((f) => f.mode === 'NULLABLE')
        .map((f) => f.name)
        .sort();
      expect(nullableInJson(stream)).toEqual(nullableInPostgres);
      expect(nullableInJson(stream)).toEqual(nullableInBigQuery);
      expect(nullableInJson(stream)).not.toContain('_account');
      expect(nullableInJson(stream)).not.toContain('_export_id');
      expect(nullableInJson(stream)).not.toContain(stream.eventTime);
      expect(nullableInJson(stream)).toContain('_loaded_at');
    },
  );
});
