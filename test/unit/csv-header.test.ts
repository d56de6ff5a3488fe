import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchemaError } from '../../src/errors.js';
import { decodeHeader } from '../../src/parse/csv-header.js';
import { readCsvRecords } from '../../src/parse/csv-records.js';
import { scanCsvFile } from '../../src/parse/csv-scanner.js';

/** Issue 27, item 2: a header that is not valid UTF-8 refuses the file instead of loading it wrong. */
describe('decodeHeader', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'csv-header-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function header(name: string, bytes: Buffer): Promise<() => string[]> {
    const file = join(dir, name);
    await writeFile(file, Buffer.concat([bytes, Buffer.from('\r\n2026-11-10 10:00:00,s1,Billing\r\n')]));
    const first = await scanCsvFile(file).next();
    if (first.done) throw new Error('no header scanned');
    return () => decodeHeader(first.value, file);
  }

  it('decodes a valid header: a BOM skipped, non-ASCII letters, quotes', async () => {
    const decode = await header('ok.csv', Buffer.from('\uFEFFInteraction Time,"Sug ""ID""",Catégorie 山田'));
    expect(decode()).toEqual(['Interaction Time', 'Sug "ID"', 'Catégorie 山田']);
  });

  it('refuses a header field that is not UTF-8, naming the file, the field and the byte offset', async () => {
    // `Categ\xC3ry`: 0xC3 opens a two-byte character that `r` does not continue.
    const bytes = Buffer.concat([
      Buffer.from('\uFEFFInteraction Time,Suggestion ID,'),
      Buffer.from('Categ\xC3ry', 'latin1'),
    ]);
    const decode = await header('bad.csv', bytes);
    let error: unknown;
    try {
      decode();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SchemaError);
    const offset = bytes.indexOf(0xc3);
    expect(offset).toBe(3 + 'Interaction Time,Suggestion ID,Categ'.length);
    expect((error as Error).message).toBe(
      `the header (line 1) of ${join(dir, 'bad.csv')} is not valid UTF-8: field 3 of 3 ("Categ\uFFFDry" as decoded) has the byte 0xC3 at byte offset ${offset} of the file, which begins no UTF-8 character. A header that cannot be read maps to no column, so nothing was loaded; no schema or setting maps it, and a replay of this file fails the same way`,
    );
  });

  it('finds a cut-short character at the end of a quoted field', async () => {
    const decode = await header(
      'cut.csv',
      Buffer.concat([Buffer.from('"Interaction Time","Sugg'), Buffer.from([0xe2, 0x82]), Buffer.from('",C')]),
    );
    expect(decode).toThrow(/field 2 of 3 \("Sugg\uFFFD" as decoded\) has the byte 0xE2 at byte offset 24 /);
  });

  it('makes readCsvRecords (infer-schema, load-file) refuse the same header', async () => {
    await header('records.csv', Buffer.concat([Buffer.from('A,'), Buffer.from([0xff]), Buffer.from(',C')]));
    const records = readCsvRecords(join(dir, 'records.csv'));
    await expect(records.next()).rejects.toThrow(/field 2 of 3 .* the byte 0xFF at byte offset 2 /);
  });
});
