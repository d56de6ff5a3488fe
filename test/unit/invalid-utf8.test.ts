import { isUtf8 } from 'node:buffer';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findStreamSchema } from '../../schemas/index.js';
import { type CsvBatch, decodeRecord, scanCsvFile } from '../../src/parse/csv-scanner.js';
import { mapHeaders } from '../../src/parse/header-mapping.js';
import { createBatchTyper } from '../../src/parse/row-typer.js';
import { invalidUtf8At } from '../../src/parse/utf8-check.js';
import type { CellValue } from '../../src/parse/value-parsers.js';

describe('invalidUtf8At', () => {
  const at = (bytes: number[]) => invalidUtf8At(Buffer.from(bytes), 0, bytes.length);

  it('finds the first byte that does not begin a well-formed sequence', () => {
    expect(at([0x61, 0x62])).toBe(-1);
    expect(at([...Buffer.from('山田 🍰 é')])).toBe(-1);
    expect(at([0x61, 0xff, 0x62])).toBe(1);
    expect(at([0x61, 0xc3])).toBe(1); // cut short
    expect(at([0xc0, 0xaf])).toBe(0); // overlong
    expect(at([0xe0, 0x80, 0xaf])).toBe(0); // overlong
    expect(at([0xed, 0xa0, 0x80])).toBe(0); // surrogate
    expect(at([0xf4, 0x90, 0x80, 0x80])).toBe(0); // past U+10FFFF
    expect(at([0x61, 0xe2, 0x82, 0x61])).toBe(1); // bad continuation
  });

  it('agrees with isUtf8 on random bytes', () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 24;
    };
    for (let n = 0; n < 5000; n++) {
      const bytes = Buffer.from(
        Array.from({ length: 1 + (n % 9) }, () => (next() & 1 ? next() : next() & 0x7f)),
      );
      expect(invalidUtf8At(bytes, 0, bytes.length) === -1, bytes.toString('hex')).toBe(isUtf8(bytes));
    }
  });
});

describe('a text cell that is not valid UTF-8', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'utf8-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('rejects its row with the byte named, never loads U+FFFD, and keeps the rows around it', async () => {
    const file = join(dir, 'kb.csv');
    const good = (category: string) => Buffer.from(`2026-11-10 10:00:00,s1,${category}\r\n`);
    const bad = Buffer.from('2026-11-10 10:00:00,s2,Cat?egory\r\n');
    bad[bad.indexOf('?')] = 0xff;
    await writeFile(
      file,
      Buffer.concat([
        Buffer.from('Interaction Time,Suggestion ID,Category\r\n'),
        good('Billing'),
        bad,
        good('Ünïcödé'),
      ]),
    );
    const schema = findStreamSchema('copilot_kb')!;
    const batches: CsvBatch[] = [];
    const results: (string | CellValue[])[] = [];
    let typer: ReturnType<typeof createBatchTyper> | undefined;
    for await (const batch of scanCsvFile(file)) {
      if (!typer) {
        typer = createBatchTyper(mapHeaders(schema, decodeRecord(batch, 0), 'fail'), schema.eventTime, 'UTC');
        continue;
      }
      batches.push(batch);
      for (let r = 0; r < batch.count; r++) {
        const values: CellValue[] = new Array(typer.plan.length);
        results.push(typer.type(batch, r, values, 0) ?? values);
      }
    }
    expect(batches[0]?.utf8).toBe(false);
    expect(results[1]).toBe('category: invalid UTF-8 at byte 4 of the value');
    expect(typeof results[0]).not.toBe('string');
    expect(typeof results[2]).not.toBe('string');
  });
});
