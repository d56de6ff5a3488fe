import { SchemaError } from '../errors.js';
import type { ColumnSpec, StreamSchema } from '../model/stream-schema.js';

export type SchemaDrift = 'evolve' | 'ignore' | 'fail';

/**
 * Header normalisation (docs/contract.md, "Headers and values"): case, spaces, underscores, punctuation and units in
 * brackets are ignored. `Latency (ms)`, `latency`, `LATENCY` all normalise to `latency`.
 */
export function normalizeHeader(header: string): string {
  return header
    .normalize('NFKC')
    .replace(/\([^)]*\)|\[[^\]]*\]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');
}

/** A warehouse identifier for an unknown header: snake_case, ASCII-ish, at most 63 bytes. */
export function columnNameForHeader(header: string): string {
  const base = header
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  const name = /^[a-z_]/.test(base) ? base : `c_${base}`;
  return (name || 'unnamed').slice(0, 63);
}

/** Where each CSV field goes: a schema column, an evolved text column, or nowhere. */
export interface FileLayout {
  readonly headers: readonly string[];
  /** One entry per CSV field, in file order: the column it loads into, or null (ignored). */
  readonly fields: readonly (ColumnSpec | null)[];
  /** Columns the file adds (drift `evolve`): nullable text. */
  readonly added: readonly ColumnSpec[];
  /** Unknown headers dropped (drift `ignore`). */
  readonly ignored: readonly string[];
  /** Schema columns absent from the file: loaded as NULL. */
  readonly missing: readonly string[];
}

function candidatesFor(col: ColumnSpec): string[] {
  return [col.name, ...col.headers].map(normalizeHeader);
}

/**
 * Maps a file's headers to the stream's columns by normalised name, never by position. Fails
 * when the event-time column is missing (naming the headers found), when two headers map to one
 * column, and on unknown headers under drift `fail`.
 */
export function mapHeaders(schema: StreamSchema, headers: readonly string[], drift: SchemaDrift): FileLayout {
  const byNorm = new Map<string, ColumnSpec>();
  for (const col of schema.columns) {
    for (const n of candidatesFor(col)) if (!byNorm.has(n)) byNorm.set(n, col);
  }
  const used = new Map<string, string>();
  const fields: (ColumnSpec | null)[] = [];
  const added: ColumnSpec[] = [];
  const ignored: string[] = [];
  const unknown: string[] = [];
  for (const header of headers) {
    if (normalizeHeader(header) === '') {
      // A nameless column (a trailing delimiter, say) carries nothing to load.
      ignored.push(header);
      fields.push(null);
      continue;
    }
    const col = byNorm.get(normalizeHeader(header));
    if (col) {
      const prior = used.get(col.name);
      if (prior !== undefined) {
        throw new SchemaError(
          `stream ${schema.name}: headers ${JSON.stringify(prior)} and ${JSON.stringify(header)} both map to column ${col.name}; add a distinct alias in schemas/ or rename one`,
        );
      }
      used.set(col.name, header);
      fields.push(col);
      continue;
    }
    unknown.push(header);
    if (drift === 'evolve') {
      const name = columnNameForHeader(header);
      if (used.has(name) || schema.columns.some((c) => c.name === name)) {
        throw new SchemaError(
          `stream ${schema.name}: new header ${JSON.stringify(header)} would become column ${name}, which already exists; add it as an alias in schemas/`,
        );
      }
      const extra: ColumnSpec = {
        name,
        type: 'text',
        headers: [header],
        description: `Added by schema drift from CSV header "${header}".`,
      };
      used.set(name, header);
      added.push(extra);
      fields.push(extra);
    } else {
      ignored.push(header);
      fields.push(null);
    }
  }
  if (!used.has(schema.eventTime)) {
    throw new SchemaError(
      `stream ${schema.name}: the file has no event-time column ${schema.eventTime}; headers found: ${headers.map((h) => JSON.stringify(h)).join(', ')}`,
    );
  }
  if (drift === 'fail' && unknown.length > 0) {
    throw new SchemaError(
      `stream ${schema.name}: unknown headers ${unknown.map((h) => JSON.stringify(h)).join(', ')} (schemaDrift: fail); add them to schemas/${schema.name} or set schemaDrift to evolve or ignore`,
    );
  }
  const missing = schema.columns.filter((c) => !used.has(c.name)).map((c) => c.name);
  return { headers, fields, added, ignored, missing };
}
