import { decodeHeader } from './csv-header.js';
import { decodeRecord, scanCsvFile, sniffDelimiter } from './csv-scanner.js';

export { sniffDelimiter };

/** One CSV record with the line it starts on (1-based; the header is line 1). */
export interface CsvRecord {
  readonly fields: string[];
  readonly line: number;
}

/**
 * Streams a CSV file's records (header first) in batches of strings, each record with the line
 * it starts on. A structural problem (unterminated quote, a record with the wrong number of
 * fields) throws a `CsvFormatError` naming the line; a header that is not valid UTF-8, a
 * `SchemaError` (see `decodeHeader`).
 */
export async function* readCsvBatches(
  path: string,
  batchSize = 2000,
  chunkBytes?: number,
): AsyncGenerator<CsvRecord[]> {
  let header = true;
  for await (const batch of scanCsvFile(path, { maxRecords: batchSize, chunkBytes })) {
    if (header) {
      header = false;
      yield [{ fields: decodeHeader(batch, path), line: batch.line[0] as number }];
      continue;
    }
    const out: CsvRecord[] = new Array(batch.count);
    for (let r = 0; r < batch.count; r++)
      out[r] = { fields: decodeRecord(batch, r), line: batch.line[r] as number };
    yield out;
  }
}

/** `readCsvBatches`, one record at a time (header inspection, inference, tests). */
export async function* readCsvRecords(path: string): AsyncGenerator<CsvRecord> {
  for await (const batch of readCsvBatches(path, 500)) yield* batch;
}
