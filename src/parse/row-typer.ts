import type { ColumnSpec } from '../engine/stream-schema.js';
import type { FileLayout } from './header-mapping.js';
import { type CellValue, parseCell, ValueError } from './value-parsers.js';

/** A typed row: one value per loaded column (in `loadedColumns(layout)` order) and its source line. */
export interface TypedRow {
  readonly values: CellValue[];
  readonly line: number;
}

export type TypeResult = { ok: true; row: TypedRow; eventTime: Date } | { ok: false; reason: string };

/** The columns a file loads, in load order: the fields that map somewhere, in file order. */
export function loadedColumns(layout: FileLayout): ColumnSpec[] {
  return layout.fields.filter((f): f is ColumnSpec => f !== null);
}

/**
 * Builds the typer for one file: CSV fields in, typed values out, or the reason the row is
 * rejected. Empty cells are NULL; the event time is required.
 */
export function createRowTyper(layout: FileLayout, eventTime: string, zone: string) {
  const plan: { index: number; col: ColumnSpec }[] = [];
  layout.fields.forEach((col, index) => {
    if (col) plan.push({ index, col });
  });
  const eventSlot = plan.findIndex((p) => p.col.name === eventTime);
  return (fields: readonly string[], line: number): TypeResult => {
    const values: CellValue[] = new Array(plan.length);
    for (let i = 0; i < plan.length; i++) {
      const { index, col } = plan[i]!;
      const raw = fields[index] ?? '';
      if (raw === '' || (col.type !== 'text' && raw.trim() === '')) {
        if (col.nullable === false) return { ok: false, reason: `${col.name}: required value is empty` };
        values[i] = null;
        continue;
      }
      try {
        values[i] = parseCell(col.type, raw, zone);
      } catch (err) {
        if (err instanceof ValueError) return { ok: false, reason: `${col.name}: ${err.message}` };
        throw err;
      }
    }
    return { ok: true, row: { values, line }, eventTime: values[eventSlot] as Date };
  };
}
