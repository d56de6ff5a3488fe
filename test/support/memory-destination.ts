import { StoreError } from '../../src/errors.js';
import type { ColumnSpec, StreamSchema } from '../../src/model/stream-schema.js';
import type { Window } from '../../src/model/window.js';
import type { TypedRow } from '../../src/parse/row-typer.js';
import type { CellValue } from '../../src/parse/value-parsers.js';
import type { Destination, LoadJob, LoadResult } from '../../src/ports/destination.js';
import type { DatasetName } from '../../src/ports/lineage.js';

/** One row of a memory table: its columns by name, and the load's metadata. */
export interface MemoryRow {
  readonly values: Readonly<Record<string, CellValue>>;
  readonly exportKey: string;
  readonly account: string;
  readonly window: Window;
  readonly loadedAt: Date;
  readonly sourceLine: number;
}

/** One `load` call, as the destination saw it. */
export interface MemoryLoad {
  readonly stream: string;
  readonly exportKey: string;
  readonly account: string;
  readonly window: Window;
  /** `loaded`: replaced and committed; `failed`: told to fail; `abandoned`: `beforeCommit` threw. */
  readonly outcome: 'loaded' | 'failed' | 'abandoned';
  readonly rows: number;
}

/**
 * An in-memory `Destination` (dlt's `dummy` destination): a table per stream, a window's replace
 * of the account's rows, and the load's protocol as a warehouse that is not the state store's
 * database follows it: every row staged, `beforeCommit(staged)` (which may abandon the load), the
 * rows made visible, then `commit()` with no connection (the state store commits in its own
 * transaction). `failNextLoad` makes the next load fail before anything is visible.
 */
export class MemoryDestination implements Destination {
  readonly name = 'memory';
  readonly capabilities = { copy: false };
  readonly tables = new Map<string, MemoryRow[]>();
  readonly loads: MemoryLoad[] = [];
  /** Columns added by drift, per table. */
  readonly added = new Map<string, string[]>();
  private readonly failures: Error[] = [];

  /** The next load fails with `error` (a destination that dropped its connection), nothing visible. */
  failNextLoad(error: Error = new StoreError('the destination dropped the connection (test)')): void {
    this.failures.push(error);
  }

  /** The stream's rows (of one account, when given), by source line. */
  rows(stream: string, account?: string): MemoryRow[] {
    return (this.tables.get(stream) ?? [])
      .filter((r) => account === undefined || r.account === account)
      .sort((a, b) => a.sourceLine - b.sourceLine);
  }

  async check(streams: readonly StreamSchema[]): Promise<string> {
    return `memory destination, ${streams.length} stream(s)`;
  }

  async ensureTable(schema: StreamSchema, added: readonly ColumnSpec[]): Promise<void> {
    if (!this.tables.has(schema.name)) this.tables.set(schema.name, []);
    if (added.length)
      this.added.set(schema.name, [...(this.added.get(schema.name) ?? []), ...added.map((c) => c.name)]);
  }

  async load(job: LoadJob): Promise<LoadResult> {
    const record = (outcome: MemoryLoad['outcome'], rows: number) =>
      this.loads.push({
        stream: job.schema.name,
        exportKey: job.exportKey,
        account: job.account,
        window: job.window,
        outcome,
        rows,
      });
    const failure = this.failures.shift();
    if (failure) {
      record('failed', 0);
      throw failure;
    }
    if (!job.rows) throw new Error('the memory destination takes typed rows (copy: false)');
    const staged: TypedRow[] = [];
    for await (const batch of job.rows)
      staged.push(...batch.map((r) => ({ values: [...r.values], line: r.line })));
    try {
      await job.beforeCommit(staged.length);
    } catch (err) {
      record('abandoned', staged.length);
      throw err;
    }
    const table = this.tables.get(job.schema.name) ?? [];
    const event = job.schema.eventTime;
    const inWindow = (r: MemoryRow) => {
      const t = r.values[event] as Date;
      return r.account === job.account && t >= job.window.start && t < job.window.end;
    };
    const kept = table.filter((r) => !inWindow(r));
    const replaced = table.length - kept.length;
    for (const r of staged)
      kept.push({
        values: Object.fromEntries(job.columns.map((c, i) => [c.name, r.values[i] ?? null])),
        exportKey: job.exportKey,
        account: job.account,
        window: job.window,
        loadedAt: job.loadedAt,
        sourceLine: r.line,
      });
    this.tables.set(job.schema.name, kept);
    record('loaded', staged.length);
    await job.commit();
    return { rows: staged.length, replaced };
  }

  datasetFor(schema: StreamSchema): DatasetName {
    return { namespace: 'memory://destination', name: schema.name };
  }

  async close(): Promise<void> {}
}
