import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { type Options, parse } from 'csv-parse';

/** One CSV record with the line it starts on (1-based; the header is line 1). */
export interface CsvRecord {
  readonly fields: string[];
  readonly line: number;
}

/** A file that is not well-formed CSV: the message names the line. */
export class CsvFormatError extends Error {
  constructor(
    message: string,
    readonly line: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CsvFormatError';
  }
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

async function readHead(path: string, bytes = 65_536): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/^\uFEFF/, '');
  } finally {
    await fh.close();
  }
}

export function csvParseOptions(delimiter: string): Options {
  return {
    bom: true,
    delimiter,
    relax_column_count: false,
    skip_empty_lines: true,
  };
}

/**
 * Streams a CSV file's records (header first) in batches, each record with the line it starts
 * on. Batches, not single records: one await per batch instead of per row keeps the parse path
 * near csv-parse's own speed. A structural problem (unterminated quote, a record with the wrong
 * number of fields) throws a `CsvFormatError` naming the line.
 */
export async function* readCsvBatches(path: string, batchSize = 2000): AsyncGenerator<CsvRecord[]> {
  const delimiter = sniffDelimiter(await readHead(path));
  const input = createReadStream(path, { highWaterMark: 256 * 1024 });
  const parser = parse(csvParseOptions(delimiter));
  input.pipe(parser);
  let failure: unknown;
  let ended = false;
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  parser.on('readable', signal);
  parser.on('end', () => {
    ended = true;
    signal();
  });
  parser.on('error', (err) => {
    failure = err;
    signal();
  });
  input.on('error', (err) => {
    failure = err;
    signal();
  });
  let nextLine = 1;
  try {
    for (;;) {
      const batch: CsvRecord[] = [];
      while (batch.length < batchSize) {
        const rec = parser.read() as string[] | null;
        if (rec === null) break;
        batch.push({ fields: rec, line: nextLine });
        // csv-parse counts a CRLF inside a quoted field as two lines; count breaks ourselves.
        nextLine += 1 + lineBreaks(rec);
      }
      if (batch.length > 0) {
        yield batch;
        continue;
      }
      if (failure) throw failure;
      if (ended) return;
      await new Promise<void>((r) => {
        wake = r;
      });
    }
  } catch (err) {
    throw toCsvFormatError(err, nextLine);
  } finally {
    input.destroy();
    parser.destroy();
  }
}

/** `readCsvBatches`, one record at a time (header inspection, inference, tests). */
export async function* readCsvRecords(path: string): AsyncGenerator<CsvRecord> {
  for await (const batch of readCsvBatches(path, 500)) yield* batch;
}

function lineBreaks(fields: readonly string[]): number {
  let n = 0;
  for (const f of fields) {
    if (f.indexOf('\n') === -1 && f.indexOf('\r') === -1) continue;
    n += f.match(/\r\n|\r|\n/g)?.length ?? 0;
  }
  return n;
}

/** Wraps a csv-parse error, naming the line where the failing record starts. */
export function toCsvFormatError(err: unknown, recordLine?: number): CsvFormatError {
  if (err instanceof CsvFormatError) return err;
  const e = err as { message?: string; lines?: number };
  const line = recordLine ?? (typeof e.lines === 'number' ? e.lines : undefined);
  const message = e.message ?? String(err);
  return new CsvFormatError(`malformed CSV in the record at line ${line ?? '?'}: ${message}`, line, {
    cause: err,
  });
}
