/**
 * Loaded into a CLI process with `node --import` by the history bench: appends every statement
 * the process sends through node-postgres (text and parameters, one JSON line each) to the file
 * named by `BENCH_QUERY_LOG`, so that the bench can EXPLAIN exactly what a command runs.
 */
import { appendFileSync } from 'node:fs';
import pg from 'pg';

const file = process.env.BENCH_QUERY_LOG;
if (file) {
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function recorded(this: pg.Client, ...args: unknown[]) {
    const [config, values] = args;
    const text = typeof config === 'string' ? config : (config as { text?: unknown } | null)?.text;
    const params = Array.isArray(values) ? values : (config as { values?: unknown } | null)?.values;
    if (typeof text === 'string') appendFileSync(file, `${JSON.stringify({ text, values: params ?? [] })}\n`);
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
}
