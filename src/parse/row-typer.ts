import { ValueError } from '../errors.js';
import type { ColumnSpec } from '../model/stream-schema.js';
import { type CsvBatch, decodeField, FieldKind } from './csv-scanner.js';
import type { FileLayout } from './header-mapping.js';
import { invalidUtf8At } from './utf8-check.js';
import { type CellValue, isPlainDecimalBytes, isPlainIntegerBytes, parseCell } from './value-parsers.js';

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

/** A loaded column and the index of the CSV field it comes from. */
export interface FieldPlan {
  readonly index: number;
  readonly col: ColumnSpec;
}

export function fieldPlan(layout: FileLayout): FieldPlan[] {
  const plan: FieldPlan[] = [];
  layout.fields.forEach((col, index) => {
    if (col) plan.push({ index, col });
  });
  return plan;
}

const nulReason = 'holds a NUL character, which database text cannot store';

/**
 * Types one cell; every path goes through here. An empty cell (or a blank one, for a non-text
 * column) is NULL; a required column's NULL and an unreadable value throw a `ValueError`.
 */
export function typeCell(col: ColumnSpec, raw: string, zone: string): CellValue {
  if (raw === '' || (col.type !== 'text' && raw.trim() === '')) {
    if (col.nullable === false) throw new ValueError('required value is empty');
    return null;
  }
  if (col.type === 'text' && raw.includes('\0')) throw new ValueError(nulReason);
  return parseCell(col.type, raw, zone);
}

/**
 * A value of the COPY path: the cell's bytes are already its canonical text (text, a plain
 * integer, a plain decimal), so the writer copies them as they are.
 */
export const AS_IS = '';

/**
 * Builds the typer for one file's scanned batches: record `r` in, typed values out (in plan
 * order, from `at` in `values`), or the reason the record is rejected. Cells whose bytes are
 * already canonical are not decoded: text, and integers and decimals in their plain form, get
 * `AS_IS`; the rest are decoded and parsed by `typeCell` like everywhere else. A cell whose
 * bytes are not valid UTF-8 rejects its record (never replaced by U+FFFD, which would load
 * something the vendor did not send).
 */
export function createBatchTyper(layout: FileLayout, eventTime: string, zone: string) {
  const plan = fieldPlan(layout);
  const eventSlot = plan.findIndex((p) => p.col.name === eventTime);
  return {
    plan,
    eventSlot,
    type(batch: CsvBatch, r: number, values: CellValue[], at: number): string | undefined {
      const base = r * batch.width;
      for (let j = 0; j < plan.length; j++) {
        const { index, col } = plan[j]!;
        const i = base + index;
        {
          const s = batch.start[i] as number;
          const e = batch.end[i] as number;
          if (!batch.utf8) {
            const bad = invalidUtf8At(batch.buf, s, e);
            if (bad !== -1) return `${col.name}: invalid UTF-8 at byte ${bad + 1} of the value`;
          }
          if (col.type === 'text') {
            if (batch.nul && batch.buf.subarray(s, e).indexOf(0) !== -1) return `${col.name}: ${nulReason}`;
            if (s === e) {
              if (col.nullable === false) return `${col.name}: required value is empty`;
              values[at + j] = null;
            } else {
              values[at + j] = AS_IS;
            }
            continue;
          }
          const kind = batch.kind[i];
          if (
            (kind === FieldKind.plain || kind === FieldKind.quoted) &&
            ((col.type === 'integer' && isPlainIntegerBytes(batch.buf, s, e)) ||
              (col.type === 'number' && isPlainDecimalBytes(batch.buf, s, e)))
          ) {
            values[at + j] = AS_IS;
            continue;
          }
        }
        try {
          values[at + j] = typeCell(col, decodeField(batch, i), zone);
        } catch (err) {
          if (err instanceof ValueError) return `${col.name}: ${err.message}`;
          throw err;
        }
      }
      return undefined;
    },
  };
}

/** The typer for records as strings (`load-file`'s event span): the same cells, the same rules. */
export function createRowTyper(layout: FileLayout, eventTime: string, zone: string) {
  const plan = fieldPlan(layout);
  const eventSlot = plan.findIndex((p) => p.col.name === eventTime);
  return (fields: readonly string[], line: number): TypeResult => {
    const values: CellValue[] = new Array(plan.length);
    for (let i = 0; i < plan.length; i++) {
      const { index, col } = plan[i]!;
      try {
        values[i] = typeCell(col, fields[index] ?? '', zone);
      } catch (err) {
        if (err instanceof ValueError) return { ok: false, reason: `${col.name}: ${err.message}` };
        throw err;
      }
    }
    return { ok: true, row: { values, line }, eventTime: values[eventSlot] as Date };
  };
}
