import { expect } from 'vitest';
import type { StreamSchema } from '../../src/model/stream-schema.js';
import { type DataOptions, generateRows } from './simulator.js';
import type { TestDatabase } from './test-database.js';

/**
 * Asserts that a stream's table holds exactly the rows the simulator generates for the union of
 * the loaded windows, typed and equal, with no duplicate.
 */
export async function expectTableMatchesSimulator(
  db: TestDatabase,
  schema: StreamSchema,
  data?: DataOptions,
): Promise<number> {
  const windows = await db.query<{ window_start: Date; window_end: Date }>(
    `select window_start, window_end from cxone_od_sync.exports where stream = $1 and status = 'loaded' order by window_start`,
    [schema.name],
  );
  expect(windows.length, `${schema.name}: loaded exports`).toBeGreaterThan(0);
  const cols = schema.columns.map((c) => `"${c.name}"`).join(', ');
  const actual = await db.query(`select ${cols} from cxone.${schema.name} order by "${schema.eventTime}"`);
  return expectRowsMatchSimulator(actual, schema, windows, data);
}

/**
 * Asserts that `actual` (any destination's rows, ordered by event time) are exactly the rows the
 * simulator generates for the union of `windows`, typed and equal.
 */
export function expectRowsMatchSimulator(
  actual: Record<string, unknown>[],
  schema: StreamSchema,
  windows: readonly { window_start: Date; window_end: Date }[],
  data?: DataOptions,
): number {
  const from = windows[0]!.window_start;
  const to = new Date(Math.max(...windows.map((w) => w.window_end.getTime())) - 1);
  const expected = [...generateRows(schema.name, from, to, data)];
  expect(actual.length, `${schema.name} row count`).toBe(expected.length);
  const normalise = (row: Record<string, unknown>) =>
    Object.fromEntries(
      schema.columns.map((c) => {
        const v = row[c.name];
        if (v === null || v === undefined) return [c.name, null];
        if (c.type === 'integer') return [c.name, String(v)];
        if (c.type === 'timestamp') return [c.name, new Date(v as Date | string).toISOString()];
        return [c.name, v];
      }),
    );
  for (let i = 0; i < expected.length; i++) {
    expect(normalise(actual[i]!), `${schema.name} row ${i}`).toEqual(normalise(expected[i]!));
  }
  return actual.length;
}
