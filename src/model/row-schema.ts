import { z } from 'zod';
import { type ColumnSpec, metadataColumns, requiredColumn, type StreamSchema } from './stream-schema.js';

function columnSchema(c: Pick<ColumnSpec, 'type' | 'description' | 'nullable'>): z.ZodType {
  const base = {
    timestamp: z.iso.datetime({ offset: true }),
    integer: z.int(),
    number: z.number(),
    boolean: z.boolean(),
    text: z.string(),
  }[c.type].describe(c.description);
  return c.nullable === false ? base : base.nullable();
}

/** The zod schema of a warehouse row of a stream (as JSON: timestamps as ISO strings). */
export function rowSchema(stream: StreamSchema) {
  const shape: Record<string, z.ZodType> = {};
  // Nullable exactly where the destinations' DDL makes a column nullable.
  for (const c of stream.columns)
    shape[c.name] = columnSchema({ ...c, nullable: c.nullable !== false && !requiredColumn(stream, c.name) });
  for (const c of metadataColumns)
    shape[c.name] = columnSchema({ ...c, nullable: !requiredColumn(stream, c.name) });
  return z.object(shape).describe(stream.description);
}

/** JSON Schema of a stream's rows, for `streams --json`. */
export function rowJsonSchema(stream: StreamSchema): unknown {
  return { title: stream.name, ...z.toJSONSchema(rowSchema(stream)) };
}
