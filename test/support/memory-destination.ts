import type { StreamSchema } from '../../src/model/stream-schema.js';
import { typedRows } from '../../src/parse/typed-batch.js';
import type {
  Destination,
  DestinationCapabilities,
  LoadJob,
  LoadResult,
} from '../../src/ports/destination.js';
import { loadConstants } from '../../src/ports/destination.js';
import type { DatasetName } from '../../src/ports/lineage.js';

/** A row as the in-memory destination keeps it: column name to value, metadata included. */
export type MemoryRow = Record<string, unknown>;

/**
 * An in-memory `Destination`: a table per stream, a window's rows of an account replaced at
 * once. Like a destination that cannot share the state store's transaction, it makes the rows
 * visible and then calls the job's `commit()`; `failNextLoad` makes the next load throw before
 * anything is visible.
 */
export class MemoryDestination implements Destination {
  readonly name = 'memory';
  readonly capabilities: DestinationCapabilities = { copy: false };
  readonly tables = new Map<string, MemoryRow[]>();
  loads = 0;
  failNextLoad: Error | undefined;

  async check(): Promise<string> {
    return 'memory';
  }

  async ensureTable(schema: StreamSchema): Promise<void> {
    if (!this.tables.has(schema.name)) this.tables.set(schema.name, []);
  }

  async load(job: LoadJob): Promise<LoadResult> {
    this.loads++;
    const fail = this.failNextLoad;
    this.failNextLoad = undefined;
    const staged: MemoryRow[] = [];
    const constants = loadConstants(job);
    const batches =
      job.rows ??
      (async function* () {
        for await (const b of job.batches!) yield typedRows(b);
      })();
    for await (const batch of batches)
      for (const row of batch) {
        const r: MemoryRow = {};
        job.columns.forEach((c, i) => {
          r[c.name] = row.values[i];
        });
        r._source_line = row.line;
        for (const k of constants) r[k.column.name] = k.value;
        staged.push(r);
      }
    await job.beforeCommit(staged.length);
    if (fail) throw fail;
    const rows = this.tables.get(job.schema.name) ?? [];
    const evt = job.schema.eventTime;
    const inWindow = (r: MemoryRow) =>
      r._account === job.account && (r[evt] as Date) >= job.window.start && (r[evt] as Date) < job.window.end;
    const kept = rows.filter((r) => !inWindow(r));
    this.tables.set(job.schema.name, [...kept, ...staged]);
    await job.commit();
    return { rows: staged.length, replaced: rows.length - kept.length };
  }

  datasetFor(schema: StreamSchema): DatasetName {
    return { namespace: 'memory://warehouse', name: schema.name };
  }

  async close(): Promise<void> {}
}
