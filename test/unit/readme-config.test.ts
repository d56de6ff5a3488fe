import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema } from '../../src/config/config-schema.js';

/** Every config key, walked from the zod schema itself. */
function keys(schema: z.ZodType, prefix: string): string[] {
  let s: z.ZodType = schema;
  for (;;) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
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

describe('README configuration reference', () => {
  it('names every key of the config schema', () => {
    const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
    const all = keys(configSchema, '');
    expect(all.length).toBeGreaterThan(30);
    const missing = all.filter((k) => !readme.includes(k.split('.').at(-1)!));
    expect(missing).toEqual([]);
  });
});
