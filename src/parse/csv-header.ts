import { SchemaError } from '../errors.js';
import { type CsvBatch, decodeField, decodeRecord } from './csv-scanner.js';
import { invalidUtf8At } from './utf8-check.js';

/**
 * Decodes a file's header: record 0 of the scanner's first batch (the header alone). A header
 * field that is not valid UTF-8 refuses the whole file with a `SchemaError` naming `file`, the
 * field (1-based, as decoded with U+FFFD) and the offending byte's offset in the file: decoded
 * anyway, it would map to no column, and that column would load as NULL on every row (or a new
 * column would appear, under drift `evolve`) without a word. Rows are different: a bad cell
 * rejects its own row only (see `createBatchTyper`).
 */
export function decodeHeader(batch: CsvBatch, file: string): string[] {
  if (!batch.utf8) {
    for (let f = 0; f < batch.width; f++) {
      const start = batch.start[f] as number;
      const bad = invalidUtf8At(batch.buf, start, batch.end[f] as number);
      if (bad === -1) continue;
      // The header batch's buffer starts at the file's first byte: its offsets are the file's.
      const at = start + bad;
      const byte = (batch.buf[at] as number).toString(16).toUpperCase().padStart(2, '0');
      throw new SchemaError(
        `the header (line 1) of ${file} is not valid UTF-8: field ${f + 1} of ${batch.width} (${JSON.stringify(decodeField(batch, f))} as decoded) has the byte 0x${byte} at byte offset ${at} of the file, which begins no UTF-8 character. A header that cannot be read maps to no column, so nothing was loaded; no schema or setting maps it, and a replay of this file fails the same way`,
      );
    }
  }
  return decodeRecord(batch, 0);
}
