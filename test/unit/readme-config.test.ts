import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema } from '../../src/config/config-schema.js';

/** Every config key, walked from the zod schema itself. */
function keys(schema: z.ZodType, prefix: string): string[] {
  let s: z.ZodType = schema;
  for (;;) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional)
      s = s.unwrap() as z.ZodType;
    else break;
  }
  if (s instanceof z.ZodObject) {
    return Object.entries(s.shape as Record<string, z.ZodType>).flatMap(([k, v]) => [
      `${prefix}${k}`,
      ...keys(v, `${prefix}${k}.`),
    ]);
  }
  if (s instanceof z.ZodDiscriminatedUnion)
    return [...new Set(s.options.flatMap((o) => keys(o as z.ZodType, prefix)))];
  if (s instanceof z.ZodRecord) return keys(s.valueType as z.ZodType, `${prefix}<name>.`);
  return [];
}

interface ReferenceRow {
  /** The full dotted keys the row's key cell names. */
  readonly keys: readonly string[];
  /** The backticked words of the meaning cell (the sub-keys a row like `streams.<name>` lists). */
  readonly mentions: ReadonlySet<string>;
}

/**
 * The rows of the README's "## Configuration" table. A key cell names full dotted keys, and may
 * go on with bare names relative to the first one's section
 * (`account.clientId`, `clientSecret`: `account.clientSecret`).
 */
function referenceRows(readme: string): ReferenceRow[] {
  const section = /^## Configuration\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1] ?? '';
  const ticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
  return section
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l))
    .slice(1)
    .map((line) => {
      const [keyCell = '', , meaning = ''] = line.split('|').slice(1);
      let parent = '';
      // A parenthesis qualifies the keys (`(type \`bigquery\`)`); it names none.
      const rowKeys = ticked(keyCell.replace(/\([^)]*\)/g, '')).map((k) => {
        if (k.includes('.')) {
          parent = k.slice(0, k.lastIndexOf('.') + 1);
          return k;
        }
        return `${parent}${k}`;
      });
      return { keys: rowKeys, mentions: new Set(ticked(meaning)) };
    });
}

/**
 * Whether the table documents `key`: a row names it; or it is a section (a row names a key
 * under it); or a row names its parent and lists the last segment in its meaning.
 */
function documented(key: string, rows: readonly ReferenceRow[]): boolean {
  const at = key.lastIndexOf('.');
  const parent = key.slice(0, at);
  const leaf = key.slice(at + 1);
  return rows.some(
    (r) =>
      r.keys.includes(key) ||
      r.keys.some((k) => k.startsWith(`${key}.`)) ||
      (at > 0 && r.keys.includes(parent) && r.mentions.has(leaf)),
  );
}

describe('README configuration reference', () => {
  const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
  const rows = referenceRows(readme);

  it('reads the configuration table', () => {
    expect(rows.length).toBeGreaterThan(15);
    expect(rows.flatMap((r) => r.keys)).toContain('account.clientSecret');
  });

  it('names every key of the config schema in the configuration table, by its full dotted path', () => {
    const all = keys(configSchema, '');
    expect(all.length).toBeGreaterThan(30);
    expect(all.filter((k) => !documented(k, rows))).toEqual([]);
  });

  it('names no key in the configuration table that the config schema does not have', () => {
    const all = keys(configSchema, '');
    const known = (k: string) => all.some((a) => a === k || a.startsWith(`${k}.`));
    expect(rows.flatMap((r) => r.keys).filter((k) => !known(k))).toEqual([]);
  });
});
