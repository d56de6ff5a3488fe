import { loadMetadataColumns } from '../../src/model/stream-schema.js';
import { FieldKind, recordBytes } from '../../src/parse/csv-scanner.js';
import { AS_IS } from '../../src/parse/row-typer.js';
import type { TypedBatch } from '../../src/parse/typed-batch.js';
import { plainDecimalValue, plainIntegerValue } from '../../src/parse/value-parsers.js';
import type { LoadConstant } from '../../src/ports/destination.js';
import { copyBytes, type EncodeProgress } from './copy-stream.js';

/**
 * PostgreSQL's binary COPY format (`COPY ... FROM STDIN WITH (FORMAT binary)`): every value goes
 * in as the server's own representation, so the server parses nothing; text cells are copied
 * from the downloaded bytes. Used when the table's column types are exactly the ones this
 * connector creates (`postgresTypes`); otherwise the destination sends CSV.
 */

const signature = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]);
/** PostgreSQL timestamps count microseconds from 2000-01-01T00:00:00Z. */
const pgEpochMs = 946_684_800_000;
const two32 = 4_294_967_296;
const QUOTE = 0x22;

/** The stream's first bytes: signature, flags, header extension length. */
export function binaryCopyHeader(): Buffer {
  const b = Buffer.alloc(signature.length + 8);
  signature.copy(b, 0);
  return b;
}

/** The stream's last bytes: a field count of -1. */
export function binaryCopyTrailer(): Buffer {
  return Buffer.from([0xff, 0xff]);
}

function int32(out: Buffer, p: number, v: number): void {
  out[p] = v >>> 24;
  out[p + 1] = (v >>> 16) & 255;
  out[p + 2] = (v >>> 8) & 255;
  out[p + 3] = v & 255;
}

/** Writes a safe integer as int64, big-endian. */
function int64(out: Buffer, p: number, v: number): void {
  const hi = Math.floor(v / two32);
  int32(out, p, hi | 0);
  int32(out, p + 4, (v - hi * two32) >>> 0);
}

/** Writes a length-prefixed int8 value. */
function int8Field(out: Buffer, p: number, v: number): number {
  int32(out, p, 8);
  int64(out, p + 4, v);
  return p + 12;
}

function instantField(out: Buffer, p: number, d: Date): number {
  return int8Field(out, p, (d.getTime() - pgEpochMs) * 1000);
}

/** A constant metadata value as a binary COPY field: text as UTF-8, instants as timestamps. */
function constantField({ column, value }: LoadConstant): Buffer {
  if (column.type === 'timestamp') {
    const b = Buffer.alloc(12);
    instantField(b, 0, value as Date);
    return b;
  }
  const text = Buffer.from(value as string, 'utf8');
  const b = Buffer.alloc(4 + text.length);
  int32(b, 0, text.length);
  text.copy(b, 4);
  return b;
}

/** Encodes typed batches as binary COPY tuples: the plan's columns, `_source_line`, then the metadata. */
export class CopyBinaryWriter {
  private readonly tail: Buffer;

  /** @param constants the load's constant metadata values (`loadConstants`). */
  constructor(constants: readonly LoadConstant[]) {
    this.tail = Buffer.concat(constants.map(constantField));
  }

  /**
   * Writes the batch's rows from `from` into `out` at `pos`, as many as fit; returns the next
   * row and position, and the room the next row needs.
   */
  encodeInto(tb: TypedBatch, from: number, out: Buffer, pos: number): EncodeProgress {
    const src = tb.source;
    const buf = src.buf;
    const plan = tb.plan;
    const width = plan.length;
    const fieldCount = width + loadMetadataColumns.length;
    for (let k = from; k < tb.count; k++) {
      const r = tb.records[k] as number;
      const base = r * src.width;
      // Every field lies within the record's bytes; worst case, text re-encoded from invalid
      // UTF-8 triples in size.
      const bound = 2 + width * 12 + 12 + this.tail.length + 3 * recordBytes(src, r);
      if (pos + bound > out.length) return { next: k, pos, need: bound };
      out[pos] = fieldCount >>> 8;
      out[pos + 1] = fieldCount & 255;
      pos += 2;
      const at = k * width;
      for (let j = 0; j < width; j++) {
        const v = tb.values[at + j];
        if (v === null || v === undefined) {
          int32(out, pos, -1);
          pos += 4;
          continue;
        }
        const { index, col } = plan[j]!;
        if (v === AS_IS) {
          const i = base + index;
          const s = src.start[i] as number;
          const e = src.end[i] as number;
          if (col.type === 'integer') {
            pos = int8Field(out, pos, plainIntegerValue(buf, s, e));
          } else if (col.type === 'number') {
            int32(out, pos, 8);
            out.writeDoubleBE(plainDecimalValue(buf, s, e), pos + 4);
            pos += 12;
          } else if (!src.utf8) {
            const raw = buf.toString('utf8', s, e);
            const text = src.kind[i] === FieldKind.quotedEscaped ? raw.replaceAll('""', '"') : raw;
            const n = out.write(text, pos + 4, 'utf8');
            int32(out, pos, n);
            pos += 4 + n;
          } else if (src.kind[i] === FieldKind.quotedEscaped) {
            // "" inside a quoted field is one quote.
            let q = pos + 4;
            for (let p = s; p < e; p++) {
              const b = buf[p] as number;
              out[q++] = b;
              if (b === QUOTE) p++;
            }
            int32(out, pos, q - pos - 4);
            pos = q;
          } else {
            int32(out, pos, e - s);
            pos = copyBytes(buf, s, e, out, pos + 4);
          }
          continue;
        }
        switch (col.type) {
          case 'timestamp':
            pos = instantField(out, pos, v as Date);
            break;
          case 'integer': {
            const text = v as string;
            if (text.length <= 15) pos = int8Field(out, pos, Number(text));
            else {
              int32(out, pos, 8);
              out.writeBigInt64BE(BigInt(text), pos + 4);
              pos += 12;
            }
            break;
          }
          case 'number':
            int32(out, pos, 8);
            out.writeDoubleBE(v as number, pos + 4);
            pos += 12;
            break;
          case 'boolean':
            int32(out, pos, 1);
            out[pos + 4] = v ? 1 : 0;
            pos += 5;
            break;
          case 'text': {
            const n = out.write(v as string, pos + 4, 'utf8');
            int32(out, pos, n);
            pos += 4 + n;
            break;
          }
        }
      }
      pos = int8Field(out, pos, src.line[r] as number);
      pos += this.tail.copy(out, pos);
    }
    return { next: tb.count, pos, need: 0 };
  }
}
