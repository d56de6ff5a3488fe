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
    info: true,
  };
}

/**
 * Streams a CSV file's records (header first) with their starting line numbers. A structural
 * problem (unterminated quote, a record with the wrong number of fields) throws a
 * `CsvFormatError` naming the line.
 */
export async function* readCsvRecords(path: string): AsyncGenerator<CsvRecord> {
  const delimiter = sniffDelimiter(await readHead(path));
  const parser = createReadStream(path).pipe(parse(csvParseOptions(delimiter)));
  let nextLine = 1;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      yield { fields: item.record, line: nextLine };
      // csv-parse counts a CRLF inside a quoted field as two lines; count breaks ourselves.
      nextLine += 1 + lineBreaks(item.record);
    }
  } catch (err) {
    throw toCsvFormatError(err, nextLine);
  }
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
