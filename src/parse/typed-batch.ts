import { type CsvBatch, decodeField } from './csv-scanner.js';
import { AS_IS, type FieldPlan, type TypedRow } from './row-typer.js';
import type { CellValue } from './value-parsers.js';

/**
 * The accepted records of one scanned batch, typed: `values[k * plan.length + j]` is column `j`
 * of the k-th accepted record (`records[k]` in `source`), or `AS_IS` when the cell's bytes are
 * already its canonical text (text; integers and decimals in plain form). A bulk writer copies
 * or converts those bytes without making a string; `typedRows` decodes them for everyone else.
 * Valid until the next batch is requested: its arrays and buffers are then reused.
 */
export interface TypedBatch {
  readonly source: CsvBatch;
  readonly plan: readonly FieldPlan[];
  readonly count: number;
  readonly records: Int32Array;
  readonly values: CellValue[];
}

/** The batch as typed rows, every `AS_IS` cell decoded. */
export function typedRows(tb: TypedBatch): TypedRow[] {
  const width = tb.plan.length;
  const rows: TypedRow[] = new Array(tb.count);
  for (let k = 0; k < tb.count; k++) {
    const r = tb.records[k] as number;
    const values = tb.values.slice(k * width, (k + 1) * width);
    for (let j = 0; j < width; j++) {
      if (values[j] !== AS_IS) continue;
      const { index, col } = tb.plan[j]!;
      const text = decodeField(tb.source, r * tb.source.width + index);
      values[j] = col.type === 'number' ? Number(text) : text;
    }
    rows[k] = { values, line: tb.source.line[r] as number };
  }
  return rows;
}
