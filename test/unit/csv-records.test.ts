import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CsvFormatError } from '../../src/errors.js';
import { readCsvBatches, readCsvRecords, sniffDelimiter } from '../../src/parse/csv-records.js';

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

describe('CSV scanner across chunk boundaries', () => {
  /** A seeded generator of awkward CSV: quotes, escaped quotes, delimiters and line breaks inside fields, empty fields and lines, Unicode. */
  function awkwardCsv(
    seed: number,
    eol: string,
    rows: number,
    width: number,
  ): { text: string; lines: number[] } {
    let s = seed;
    const r = () => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return s / 2147483648;
    };
    const pieces = ['a', 'b c', ',', '"', '""', '\r\n', '\n', 'é', '山田', '🍰', ' ', '%', '12', ';'];
    const cell = () => {
      if (r() < 0.15) return '';
      let v = '';
      const len = 1 + Math.floor(r() * 6);
      for (let i = 0; i < len; i++) v += pieces[Math.floor(r() * pieces.length)];
      return /[",\r\n]/.test(v) || r() < 0.1 ? `"${v.replace(/"/g, '""')}"` : v;
    };
    const lines = [Array.from({ length: width }, (_, i) => `h${i}`).join(',')];
    // The line each record starts on, counted as the rows are written.
    const starts = [1];
    let line = 2;
    for (let i = 0; i < rows; i++) {
      const row = Array.from({ length: width }, cell).join(',');
      starts.push(line);
      line += 1 + (row.match(/\r\n|\r|\n/g)?.length ?? 0);
      lines.push(row);
      if (r() < 0.05) {
        lines.push('');
        line++;
      }
    }
    return { text: `\uFEFF${lines.join(eol)}${r() < 0.5 ? eol : ''}`, lines: starts };
  }

  async function scanAll(path: string, chunkBytes?: number) {
    const out: { fields: string[]; line: number }[] = [];
    for await (const batch of readCsvBatches(path, 7, chunkBytes)) out.push(...batch);
    return out;
  }

  it.each([
    [1, '\r\n'],
    [2, '\n'],
    [3, '\r\n'],
    [4, '\n'],
  ])(
    'gives csv-parse’s records and our line numbers whatever the chunk size (seed %i)',
    async (seed, eol) => {
      const { text, lines } = awkwardCsv(seed, eol, 300, 5);
      const p = await tempFile(text);
      const oracle = parse(text, {
        bom: true,
        skip_empty_lines: true,
        relax_column_count: false,
      }) as string[][];
      const whole = await scanAll(p);
      expect(whole.map((r) => r.fields)).toEqual(oracle);
      expect(whole.map((r) => r.line)).toEqual(lines);
      for (const chunk of [1, 2, 3, 5, 17, 64, 1000]) {
        expect(await scanAll(p, chunk), `chunk ${chunk}`).toEqual(whole);
      }
    },
  );

  it('reads a file mixing CRLF, LF and CR line ends, with a quote inside an unquoted field', async () => {
    const p = await tempFile('a,b\r\n1,5" screen\n2,"x\ry"\r3,z');
    for (const chunk of [undefined, 1, 2, 3]) {
      expect(await scanAll(p, chunk)).toEqual([
        { fields: ['a', 'b'], line: 1 },
        { fields: ['1', '5" screen'], line: 2 },
        { fields: ['2', 'x\ry'], line: 3 },
        { fields: ['3', 'z'], line: 5 },
      ]);
    }
  });

  it('fails a closing quote followed by text, naming the line', async () => {
    const p = await tempFile('a,b\n1,"x"y\n');
    await expect(scanAll(p)).rejects.toThrow(/record at line 2: Invalid Closing Quote/);
  });
});
