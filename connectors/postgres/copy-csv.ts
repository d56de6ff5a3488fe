import { FieldKind, recordBytes } from '../../src/parse/csv-scanner.js';
import { csvQuoteAlways } from '../../src/parse/csv-write.js';
import { AS_IS } from '../../src/parse/row-typer.js';
import type { TypedBatch } from '../../src/parse/typed-batch.js';
import type { CellValue } from '../../src/parse/value-parsers.js';
import type { LoadConstant } from '../../src/ports/destination.js';
import { copyBytes, type EncodeProgress } from './copy-stream.js';

const QUOTE = 0x22;
const LF = 0x0a;

/** Writes an ASCII string; faster than `Buffer#write` for the short texts of typed cells. */
function writeAscii(out: Buffer, pos: number, s: string): number {
  for (let k = 0; k < s.length; k++) out[pos + k] = s.charCodeAt(k);
  return pos + s.length;
}

/** Writes a typed value in its canonical text: ISO 8601 UTC instants, `true`/`false`, plain numbers. */
function writeTyped(out: Buffer, pos: number, v: Exclude<CellValue, null>): number {
  if (v instanceof Date) return writeAscii(out, pos, v.toISOString());
  if (typeof v === 'boolean') return writeAscii(out, pos, v ? 'true' : 'false');
  return writeAscii(out, pos, typeof v === 'string' ? v : String(v));
}

/**
 * Encodes typed batches as CSV for `COPY ... (FORMAT csv, DELIMITER d)`, d being the downloaded
 * file's own delimiter: the plan's columns, then `_source_line` and the constant metadata
 * columns. NULL is an unquoted empty field; text is never empty (an empty cell is NULL), so a
 * quoted empty field never occurs. Runs of cells whose bytes are already canonical (`AS_IS`) are
 * copied from the downloaded file at once, quotes and delimiters included; other typed cells are
 * written in their canonical text. A batch whose bytes are not valid UTF-8 has its text decoded
 * (invalid bytes become U+FFFD, as on every other path) and written quoted. The fallback of the
 * binary format, for tables whose column types were changed by hand.
 */
export class CopyCsvWriter {
  private readonly delimiter: number;
  private readonly tail: Buffer;

  /** @param constants the load's constant metadata values (`loadConstants`): text quoted, instants in ISO 8601. */
  constructor(delimiter: string, constants: readonly LoadConstant[]) {
    this.delimiter = delimiter.charCodeAt(0);
    const fields = constants.map(({ value }) =>
      value instanceof Date ? value.toISOString() : csvQuoteAlways(value),
    );
    this.tail = Buffer.from(`${fields.map((v) => delimiter + v).join('')}\n`);
  }

  /**
   * Writes the batch's rows from `from` into `out` at `pos`, as many as fit; returns the next
   * row and position, and the room the next row needs.
   */
  encodeInto(tb: TypedBatch, from: number, out: Buffer, pos: number): EncodeProgress {
    const batch = tb.source;
    const buf = batch.buf;
    const plan = tb.plan;
    for (let k = from; k < tb.count; k++) {
      const r = tb.records[k] as number;
      const base = r * batch.width;
      const at = k * plan.length;
      // Every field lies within the record's bytes; worst case, every text byte doubled (or
      // tripled, re-encoded from invalid UTF-8) and quoted, 34 bytes per typed cell.
      const bound = this.tail.length + 24 + plan.length * 36 + 3 * recordBytes(batch, r);
      if (pos + bound > out.length) return { next: k, pos, need: bound };
      // Consecutive cells that need no change are one run of source bytes, copied at once.
      let runStart = -1;
      let runEnd = -1;
      let lastIndex = -2;
      for (let j = 0; j < plan.length; j++) {
        const { index, col } = plan[j]!;
        const i = base + index;
        const v = tb.values[at + j];
        const kind = batch.kind[i];
        // Typed cells marked AS_IS are ASCII digits, plain or simply quoted: always verbatim.
        const verbatim =
          v === AS_IS && (col.type !== 'text' || (batch.utf8 && kind !== FieldKind.plainWithQuote));
        if (verbatim) {
          const s = batch.start[i] as number;
          const e = batch.end[i] as number;
          const quoted = kind !== FieldKind.plain && kind !== FieldKind.plainWithQuote;
          const from = quoted ? s - 1 : s;
          const to = quoted ? e + 1 : e;
          if (runStart >= 0 && index === lastIndex + 1) {
            runEnd = to;
          } else {
            if (runStart >= 0) pos = copyBytes(buf, runStart, runEnd, out, pos);
            if (j > 0) out[pos++] = this.delimiter;
            runStart = from;
            runEnd = to;
          }
          lastIndex = index;
          continue;
        }
        if (runStart >= 0) {
          pos = copyBytes(buf, runStart, runEnd, out, pos);
          runStart = -1;
        }
        lastIndex = -2;
        if (j > 0) out[pos++] = this.delimiter;
        if (v === null || v === undefined) continue;
        if (v !== AS_IS) {
          pos = col.type === 'text' ? writeQuoted(out, pos, v as string) : writeTyped(out, pos, v);
          continue;
        }
        const s = batch.start[i] as number;
        const e = batch.end[i] as number;
        if (!batch.utf8) {
          const text = buf.toString('utf8', s, e);
          pos = writeQuoted(out, pos, kind === FieldKind.quotedEscaped ? text.replaceAll('""', '"') : text);
        } else {
          // An unquoted field with a quote inside: quote it, doubling its quotes.
          out[pos++] = QUOTE;
          for (let p = s; p < e; p++) {
            const b = buf[p] as number;
            out[pos++] = b;
            if (b === QUOTE) out[pos++] = QUOTE;
          }
          out[pos++] = QUOTE;
        }
      }
      if (runStart >= 0) pos = copyBytes(buf, runStart, runEnd, out, pos);
      out[pos++] = this.delimiter;
      pos = writeAscii(out, pos, String(batch.line[r]));
      pos = copyBytes(this.tail, 0, this.tail.length, out, pos);
      if (out[pos - 1] !== LF) throw new Error('COPY CSV record not terminated');
    }
    return { next: tb.count, pos, need: 0 };
  }
}

function writeQuoted(out: Buffer, pos: number, text: string): number {
  return pos + out.write(csvQuoteAlways(text), pos, 'utf8');
}
