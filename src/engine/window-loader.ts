import { SchemaError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { type CsvRecord, readCsvBatches } from '../parse/csv-records.js';
import { csvQuoteField } from '../parse/csv-write.js';
import { mapHeaders, type SchemaDrift } from '../parse/header-mapping.js';
import { createRowTyper, loadedColumns, type TypedRow } from '../parse/row-typer.js';
import type { RejectedRowInput, StateStore } from '../state/state-store.js';
import type { ExportRow } from '../state/state-tables.js';
import type { Destination, LoadResult } from './destination.js';
import type { Window } from './planner.js';
import type { StreamSchema } from './stream-schema.js';

export interface WindowLoadInput {
  readonly file: string;
  readonly schema: StreamSchema;
  readonly exportRow: ExportRow;
  readonly window: Window;
  readonly timeZone: string;
  readonly drift: SchemaDrift;
  readonly maxRejectedRatio: number;
  readonly loadedAt: Date;
}

export interface WindowLoadResult extends LoadResult {
  readonly rejected: number;
  readonly addedColumns: readonly string[];
  readonly ignoredHeaders: readonly string[];
}

/** Keeps at most this many rejected rows in memory; past it the ratio has long failed. */
const maxRejectedKept = 100_000;

/**
 * Loads one raw CSV file as one window: headers mapped by name, rows typed, bad rows set aside
 * as rejected (with line, raw record and reason), rows outside the window rejected too (they
 * would break replace semantics), and the whole either committed with its state or not at all.
 */
export async function loadWindowFile(
  input: WindowLoadInput,
  destination: Destination,
  state: StateStore,
  log: Logger,
): Promise<WindowLoadResult> {
  const { schema, window } = input;
  const batches = readCsvBatches(input.file);
  const first = await batches.next();
  const header = first.done ? undefined : first.value.shift();
  const firstRows = first.done ? [] : first.value;
  // An empty file (no header at all) is an export with no rows: the window is replaced by nothing.
  if (!header)
    log.warn('the file is empty (no header line); the window holds no rows', { stream: schema.name });
  const layout = header
    ? mapHeaders(schema, header.fields, input.drift)
    : mapHeaders(
        schema,
        schema.columns.map((c) => c.name),
        'ignore',
      );
  if (layout.ignored.length)
    log.warn('ignoring unknown headers (schemaDrift: ignore)', {
      stream: schema.name,
      headers: layout.ignored,
    });
  if (layout.added.length)
    log.info('adding columns (schemaDrift: evolve)', {
      stream: schema.name,
      columns: layout.added.map((c) => c.name),
    });
  await destination.prepare(schema, layout.added);

  const typeRow = createRowTyper(layout, schema.eventTime, input.timeZone);
  const rejected: RejectedRowInput[] = [];
  let rejectedCount = 0;
  const reject = (rec: CsvRecord, reason: string) => {
    rejectedCount++;
    if (rejected.length < maxRejectedKept)
      rejected.push({ line: rec.line, raw: rec.fields.map(csvQuoteField).join(','), reason });
  };
  const startMs = window.start.getTime();
  const endMs = window.end.getTime();
  let yielded = 0;
  let nextProgress = 100_000;
  const typeBatch = (records: readonly CsvRecord[]): TypedRow[] => {
    const out: TypedRow[] = [];
    for (const rec of records) {
      const r = typeRow(rec.fields, rec.line);
      if (!r.ok) {
        reject(rec, r.reason);
        continue;
      }
      const t = r.eventTime.getTime();
      if (t < startMs || t >= endMs) {
        reject(
          rec,
          `${schema.eventTime} ${r.eventTime.toISOString()} is outside the window [${window.start.toISOString()}, ${window.end.toISOString()})`,
        );
        continue;
      }
      out.push(r.row);
    }
    yielded += out.length;
    if (yielded >= nextProgress) {
      nextProgress += 100_000;
      log.info('load progress', { stream: schema.name, rows: yielded, rejected: rejectedCount });
    }
    return out;
  };
  async function* rows(): AsyncGenerator<TypedRow[]> {
    if (firstRows.length) yield typeBatch(firstRows);
    for await (const batch of batches) yield typeBatch(batch);
  }

  let commitQueries: Awaited<ReturnType<typeof state.commitLoadQueries>> = [];
  const exportKey = input.exportRow.vendor_export_id ?? `local-${input.exportRow.id}`;
  const result = await destination.load({
    schema,
    columns: loadedColumns(layout),
    exportKey,
    window,
    loadedAt: input.loadedAt,
    rows: rows(),
    beforeCommit: async (staged) => {
      const total = staged + rejectedCount;
      if (rejectedCount > 0 && rejectedCount / total > input.maxRejectedRatio) {
        const sample = rejected
          .slice(0, 3)
          .map((r) => `line ${r.line}: ${r.reason}`)
          .join('; ');
        throw new SchemaError(
          `stream ${schema.name}: ${rejectedCount} of ${total} rows rejected, above maxRejectedRatio ${input.maxRejectedRatio}; nothing loaded, watermark unchanged (${sample}). Fix schemas/${schema.name} and run replay --export ${input.exportRow.id}`,
        );
      }
      commitQueries = state.commitLoadQueries({
        exportRow: input.exportRow,
        rows: staged,
        rejected,
        now: input.loadedAt,
        moveWatermark: true,
      });
      return commitQueries;
    },
  });
  if (!destination.capabilities.transactionalState) await state.executeCompiled(commitQueries);
  return {
    ...result,
    rejected: rejectedCount,
    addedColumns: layout.added.map((c) => c.name),
    ignoredHeaders: layout.ignored,
  };
}
