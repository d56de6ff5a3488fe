import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CsvFormatError, readCsvRecords, sniffDelimiter } from '../../src/parse/csv-records.js';

const spectrum = dirname(createRequire(import.meta.url).resolve('csv-spectrum/package.json'));

async function readAll(path: string) {
  const out = [];
  for await (const r of readCsvRecords(path)) out.push(r);
  return out;
}

async function tempFile(content: string | Buffer): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'csv-test-'));
  const p = join(dir, 'f.csv');
  await writeFile(p, content);
  return p;
}

describe('CSV layer', () => {
  // location_coordinates.json in csv-spectrum 2.0.0 does not describe its CSV (another phone
  // number, a non-array document), so it cannot be an expectation.
  const cases = readdirSync(join(spectrum, 'csvs'))
    .map((f) => f.replace(/\.csv$/, ''))
    .filter((n) => n !== 'location_coordinates');

  it.each(cases)('parses csv-spectrum %s to its expected values', async (name) => {
    const records = await readAll(join(spectrum, 'csvs', `${name}.csv`));
    const [header, ...rows] = records.map((r) => r.fields);
    const objects = rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]])));
    expect(objects).toEqual(JSON.parse(readFileSync(join(spectrum, 'json', `${name}.json`), 'utf8')));
  });

  it('strips a BOM, handles CRLF and reports the line each record starts on', async () => {
    const p = await tempFile('\uFEFFa,b\r\n1,"x\r\ny"\r\n2,z\r\n');
    const records = await readAll(p);
    expect(records).toEqual([
      { fields: ['a', 'b'], line: 1 },
      { fields: ['1', 'x\r\ny'], line: 2 },
      { fields: ['2', 'z'], line: 4 },
    ]);
  });

  it('fails an unterminated quote with its line number', async () => {
    const p = await tempFile('a,b\n1,2\n3,"open\nmore\n');
    await expect(readAll(p)).rejects.toThrow(CsvFormatError);
    await expect(readAll(p)).rejects.toThrow(/record at line 3: Quote Not Closed/);
  });

  it('fails a record with the wrong number of fields', async () => {
    const p = await tempFile('a,b,c\n1,2,3\n4,5\n');
    await expect(readAll(p)).rejects.toThrow(/record at line 3: Invalid Record Length/);
  });

  it('sniffs semicolon and tab delimiters from the header line', () => {
    expect(sniffDelimiter('a;b;"c,d"\n1;2;3')).toBe(';');
    expect(sniffDelimiter('a\tb\tc')).toBe('\t');
    expect(sniffDelimiter('"a;b",c,d')).toBe(',');
  });
});
