import { isUtf8 } from 'node:buffer';
import { open } from 'node:fs/promises';
import { CsvFormatError } from '../errors.js';

/**
 * The one CSV reader of the project: a byte-level scanner (RFC 4180, as tolerant as
 * docs/contract.md, "Headers and values", asks) that finds record and field boundaries without making a string per field.
 * Its consumers decide what to decode: `readCsvBatches` makes strings of every field (header
 * inspection, inference, the BigQuery path), the COPY path copies text fields' bytes through and
 * decodes only the typed ones.
 *
 * Rules: a UTF-8 BOM at the start is skipped; a record ends at CRLF, LF or CR (a file may mix
 * them); empty lines are skipped; a field starting with `"` is quoted, `""` inside it is one
 * quote, and the closing quote must be followed by the delimiter or the end of the record; a
 * quote inside an unquoted field is an ordinary character; every record has as many fields as
 * the first (the header). Lines are physical lines, 1-based, CRLF counting once; a record's line
 * is the one it starts on.
 */

/** How a field was written. */
export const FieldKind = {
  /** Unquoted, no quote character inside. */
  plain: 0,
  /** Quoted, no `""` inside: the bytes between the quotes are the value. */
  quoted: 1,
  /** Quoted with `""` escapes. */
  quotedEscaped: 2,
  /** Unquoted, with a quote character inside (kept literally). */
  plainWithQuote: 3,
} as const;

/**
 * Records scanned from one buffer. Field `f` of record `r` spans `buf[start[r*width+f],
 * end[r*width+f])` (without its quotes) and was written as `kind[r*width+f]`.
 */
export interface CsvBatch {
  readonly buf: Buffer;
  /** The file's field delimiter. */
  readonly delimiter: string;
  readonly width: number;
  readonly count: number;
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly kind: Uint8Array;
  readonly line: Int32Array;
  /** False when the bytes of this batch are not valid UTF-8 (decoding then replaces them). */
  readonly utf8: boolean;
  /** True when some field of this batch holds a NUL byte (no database text can hold one). */
  readonly nul: boolean;
}

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

/** Decodes field `i` of a batch (`i` = record * width + field). */
export function decodeField(b: CsvBatch, i: number): string {
  const s = b.start[i] as number;
  const e = b.end[i] as number;
  if (s === e) return '';
  const text = b.buf.toString('utf8', s, e);
  return b.kind[i] === FieldKind.quotedEscaped ? text.replaceAll('""', '"') : text;
}

/** The bytes record `r` spans, from its first field to its last, quotes included. */
export function recordBytes(b: CsvBatch, r: number): number {
  const base = r * b.width;
  return (b.end[base + b.width - 1] as number) - (b.start[base] as number) + 2;
}

/** Decodes every field of record `r`. */
export function decodeRecord(b: CsvBatch, r: number): string[] {
  const out = new Array<string>(b.width);
  for (let f = 0; f < b.width; f++) out[f] = decodeField(b, r * b.width + f);
  return out;
}

/**
 * Picks the delimiter from the header line: the most frequent of comma, semicolon and tab
 * outside quotes. Exports are comma-separated; a file saved by hand from a spreadsheet may not be.
 */
export function sniffDelimiter(head: string): string {
  let inQuotes = false;
  const counts = new Map<string, number>([
    [',', 0],
    [';', 0],
    ['\t', 0],
  ]);
  for (const ch of head) {
    if (ch === '"') inQuotes = !inQuotes;
    else if (!inQuotes && (ch === '\n' || ch === '\r')) break;
    else if (!inQuotes && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best = ',';
  for (const [d, n] of counts) if (n > counts.get(best)!) best = d;
  return best;
}

/** Thrown inside the scanner when a record runs past the end of the buffer (not an error). */
const incomplete = new Error('incomplete record');

/** Scans buffers into batches; keeps the line count and the width between buffers. */
class Scanner {
  private width = 0;
  private line = 1;
  private starts = new Int32Array(256);
  private ends = new Int32Array(256);
  private kinds = new Uint8Array(256);
  private lines = new Int32Array(1);

  constructor(
    private readonly delimiter: number,
    private readonly maxRecords: number,
  ) {}

  /**
   * Scans complete records of `buf` from `from`: the header alone in the first batch, then up to
   * `maxRecords` per batch. Returns the batch (valid until the next call) and the offset of the
   * first byte not consumed: the start of a record cut by the end of the buffer, unless `final`.
   */
  scan(buf: Buffer, from: number, final: boolean): { batch: CsvBatch | undefined; next: number } {
    const n = buf.length;
    const D = this.delimiter;
    const header = this.width === 0;
    const maxRecords = header ? 1 : this.maxRecords;
    let i = from;
    let count = 0;
    while (count < maxRecords && i < n) {
      const recordStart = i;
      const recordLine = this.line;
      const c0 = buf[i];
      if (c0 === LF || c0 === CR) {
        // An empty line. A CR at the very end may be the first half of a CRLF.
        if (c0 === CR && i + 1 === n && !final) break;
        i += c0 === CR && buf[i + 1] === LF ? 2 : 1;
        this.line++;
        continue;
      }
      let field = 0;
      let extraLines = 0;
      const base = count * this.width;
      try {
        for (;;) {
          if (!header && field >= this.width) {
            throw new CsvFormatError(
              `malformed CSV in the record at line ${recordLine}: Invalid Record Length: expected ${this.width} fields, got more`,
              recordLine,
            );
          }
          const slot = base + field;
          if (slot >= this.starts.length) this.grow(this.starts.length * 2);
          if (buf[i] === QUOTE) {
            let j = i + 1;
            let escaped = false;
            let k: number;
            for (;;) {
              k = buf.indexOf(QUOTE, j);
              if (k === -1) {
                if (!final) throw incomplete;
                throw new CsvFormatError(
                  `malformed CSV in the record at line ${recordLine}: Quote Not Closed: the file ends inside a quoted field`,
                  recordLine,
                );
              }
              if (k + 1 < n && buf[k + 1] === QUOTE) {
                escaped = true;
                j = k + 2;
                continue;
              }
              if (k + 1 === n && !final) throw incomplete;
              break;
            }
            for (let p = i + 1; p < k; p++) {
              const b = buf[p];
              if (b === LF) extraLines++;
              else if (b === CR && buf[p + 1] !== LF) extraLines++;
            }
            this.starts[slot] = i + 1;
            this.ends[slot] = k;
            this.kinds[slot] = escaped ? FieldKind.quotedEscaped : FieldKind.quoted;
            i = k + 1;
            if (i < n && buf[i] !== D && buf[i] !== LF && buf[i] !== CR) {
              const at = recordLine + extraLines;
              throw new CsvFormatError(
                `malformed CSV in the record at line ${at}: Invalid Closing Quote: a quoted field must end at a delimiter or the end of the record`,
                at,
              );
            }
          } else {
            const s = i;
            let quote = false;
            while (i < n) {
              const b = buf[i];
              if (b === D || b === LF || b === CR) break;
              if (b === QUOTE) quote = true;
              i++;
            }
            this.starts[slot] = s;
            this.ends[slot] = i;
            this.kinds[slot] = quote ? FieldKind.plainWithQuote : FieldKind.plain;
          }
          field++;
          if (i < n && buf[i] === D) {
            i++;
            continue;
          }
          // The end of the record: a line break, or the end of the file.
          if (i >= n) {
            if (!final) throw incomplete;
          } else if (buf[i] === CR) {
            if (i + 1 === n && !final) throw incomplete;
            i += buf[i + 1] === LF ? 2 : 1;
          } else {
            i++;
          }
          break;
        }
      } catch (err) {
        if (err === incomplete) {
          i = recordStart;
          break;
        }
        throw err;
      }
      if (header) this.width = field;
      else if (field !== this.width) {
        throw new CsvFormatError(
          `malformed CSV in the record at line ${recordLine}: Invalid Record Length: expected ${this.width} fields, got ${field}`,
          recordLine,
        );
      }
      this.lines[count] = recordLine;
      this.line += 1 + extraLines;
      count++;
    }
    if (count === 0) return { batch: undefined, next: i };
    const batch: CsvBatch = {
      buf,
      delimiter: String.fromCharCode(D),
      width: this.width,
      count,
      start: this.starts.subarray(0, count * this.width),
      end: this.ends.subarray(0, count * this.width),
      kind: this.kinds.subarray(0, count * this.width),
      line: this.lines.subarray(0, count),
      utf8: isUtf8(buf.subarray(from, i)),
      nul: buf.subarray(from, i).indexOf(0) !== -1,
    };
    if (header) {
      // Fresh arrays sized for full batches; the header batch keeps its own.
      this.starts = new Int32Array(this.width * this.maxRecords);
      this.ends = new Int32Array(this.width * this.maxRecords);
      this.kinds = new Uint8Array(this.width * this.maxRecords);
      this.lines = new Int32Array(this.maxRecords);
    }
    return { batch, next: i };
  }

  private grow(cap: number): void {
    const s = new Int32Array(cap);
    s.set(this.starts);
    const e = new Int32Array(cap);
    e.set(this.ends);
    const k = new Uint8Array(cap);
    k.set(this.kinds);
    this.starts = s;
    this.ends = e;
    this.kinds = k;
  }
}

/** The head of a file the delimiter is sniffed from. */
const sniffBytes = 65_536;

/**
 * Scans a CSV file into batches of records, its delimiter sniffed from its head; the first
 * batch is the header alone. Reads into two buffers of `chunkBytes` (1 MiB) that take turns, so
 * memory stays flat whatever the file's size and nothing is allocated per chunk. A batch is
 * valid until the next one is requested: its buffer is then reused.
 */
export async function* scanCsvFile(
  path: string,
  options: { maxRecords?: number; chunkBytes?: number } = {},
): AsyncGenerator<CsvBatch> {
  let scanner: Scanner | undefined;
  const size = options.chunkBytes ?? 1 << 20;
  const buffers: Buffer[] = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
  let cur = 0;
  let filled = 0;
  let start = 0;
  let eof = false;
  const fh = await open(path, 'r');
  try {
    for (;;) {
      // The unconsumed tail (a record cut by the end of the buffer) moves to the front of the
      // other buffer; the read goes after it. A record larger than half a buffer grows it.
      const tail = filled - start;
      let into = buffers[cur ^ 1] as Buffer;
      if (tail * 2 > into.length) {
        into = Buffer.allocUnsafe(Math.max(into.length, tail) * 2);
        buffers[cur ^ 1] = into;
      }
      (buffers[cur] as Buffer).copy(into, 0, start, filled);
      cur ^= 1;
      filled = tail;
      start = 0;
      const { bytesRead } = await fh.read(into, filled, into.length - filled, null);
      if (bytesRead === 0) eof = true;
      filled += bytesRead;
      const view = into.subarray(0, filled);
      if (!scanner) {
        // The BOM check and the delimiter need the head of the file.
        if (filled < sniffBytes && !eof) continue;
        if (view[0] === 0xef && view[1] === 0xbb && view[2] === 0xbf) start = 3;
        const head = view.toString('utf8', start, Math.min(filled, start + sniffBytes));
        scanner = new Scanner(sniffDelimiter(head).charCodeAt(0), options.maxRecords ?? 4096);
      }
      for (;;) {
        const { batch, next } = scanner.scan(view, start, eof);
        start = next;
        if (!batch) break;
        yield batch;
      }
      if (eof) return;
    }
  } finally {
    await fh.close();
  }
}
