import { SchemaError } from '../errors.js';
import { markLoaded } from '../ledger/export-transitions.js';
import { type Logger, memoryFields } from '../log/logger.js';
import type { StreamSchema } from '../model/stream-schema.js';
import type { Window } from '../model/window.js';
import { decodeHeader } from '../parse/csv-header.js';
import { type CsvBatch, decodeRecord, scanCsvFile } from '../parse/csv-scanner.js';
import { csvQuoteIfNeeded } from '../parse/csv-write.js';
import { mapHeaders, type SchemaDrift } from '../parse/header-mapping.js';
import { createBatchTyper, loadedColumns, type TypedRow } from '../parse/row-typer.js';
import { type TypedBatch, typedRows } from '../parse/typed-batch.js';
import type { CellValue } from '../parse/value-parsers.js';
import type { Destination, LoadResult } from '../ports/destination.js';
import type { ExportRecord } from '../ports/export-record.js';
import type { SqlConnection } from '../ports/sql.js';
import type { RejectedRow, StatePorts } from '../ports/state-ports.js';
import { existingRowsAccount } from './account-column.js';

export interface WindowLoadInput {
  readonly file: string;
  readonly schema: StreamSchema;
  readonly record: ExportRecord;
  readonly window: Window;
  readonly timeZone: string;
  readonly drift: SchemaDrift;
  readonly maxRejectedRatio: number;
  readonly loadedAt: Date;
  /** Test hook: stop the load once this many rows are with the destination (see `pauseAfterRows`). */
  readonly pauseAfterRows?: number | undefined;
  /** The config's key when it has one account (see `existingRowsAccount`). */
  readonly soleAccount?: string | undefined;
  /** Where the stream's history begins while it has no watermark (see `LoadCommit.firstStart`). */
  readonly firstStart: Date;
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
  state: Pick<StatePorts, 'exports' | 'watermarks'>,
  log: Logger,
): Promise<WindowLoadResult> {
  const { schema, window } = input;
  const batches = scanCsvFile(input.file);
  const first = await batches.next();
  const header = first.done ? undefined : decodeHeader(first.value, input.file);
  // An empty file (no header at all) is an export with no rows: the window is replaced by nothing.
  if (!header)
    log.warn('the file is empty (no header line); the window holds no rows', { stream: schema.name });
  const layout = header
    ? mapHeaders(schema, header, input.drift)
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
  await destination.ensureTable(
    schema,
    layout.added,
    existingRowsAccount(state, schema.name, input.soleAccount),
  );

  const typer = createBatchTyper(layout, schema.eventTime, input.timeZone);
  const rejected: RejectedRow[] = [];
  let rejectedCount = 0;
  const reject = (batch: CsvBatch, r: number, reason: string) => {
    rejectedCount++;
    if (rejected.length < maxRejectedKept)
      rejected.push({
        line: batch.line[r] as number,
        // The state store's text cannot hold NUL either: shown as the symbol for null.
        raw: decodeRecord(batch, r).map(csvQuoteIfNeeded).join(',').replaceAll('\0', '\u2400'),
        reason,
      });
  };
  const startMs = window.start.getTime();
  const endMs = window.end.getTime();
  const outside = (t: Date) =>
    `${schema.eventTime} ${t.toISOString()} is outside the window [${window.start.toISOString()}, ${window.end.toISOString()})`;
  let accepted = 0;
  let nextProgress = 100_000;
  const progress = () => {
    if (accepted < nextProgress) return;
    nextProgress += 100_000;
    log.info('load progress', {
      stream: schema.name,
      rows: accepted,
      rejected: rejectedCount,
      ...memoryFields(),
    });
  };
  const width = typer.plan.length;
  // One values array and one index for every batch: a typed batch, like the scanned batch it
  // comes from, is valid until the next one is requested. Nothing per batch reaches the old
  // generation, so the heap stays flat.
  let values: CellValue[] = [];
  let records = new Int32Array(0);
  /** Types every record of a scanned batch; the accepted ones make the typed batch. */
  const typeBatch = (source: CsvBatch): TypedBatch => {
    if (records.length < source.count) {
      values = new Array(source.count * width).fill(null);
      records = new Int32Array(source.count);
    }
    let count = 0;
    for (let r = 0; r < source.count; r++) {
      const at = count * width;
      const reason = typer.type(source, r, values, at);
      if (reason !== undefined) {
        reject(source, r, reason);
        continue;
      }
      const t = values[at + typer.eventSlot] as Date;
      const ms = t.getTime();
      if (ms < startMs || ms >= endMs) {
        reject(source, r, outside(t));
        continue;
      }
      records[count++] = r;
    }
    accepted += count;
    progress();
    return { source, plan: typer.plan, count, records, values };
  };
  async function* typedBatches(): AsyncGenerator<TypedBatch> {
    for await (const source of batches) yield typeBatch(source);
  }
  async function* rows(): AsyncGenerator<TypedRow[]> {
    for await (const tb of typedBatches()) yield typedRows(tb);
  }
  let staged = 0;
  const { record } = input;
  const result = await destination.load({
    schema,
    columns: loadedColumns(layout),
    exportKey: record.exportKey,
    account: record.account,
    window,
    loadedAt: input.loadedAt,
    ...(destination.capabilities.copy
      ? {
          batches: pauseAfterRows(typedBatches(), input.pauseAfterRows, (b) => b.count, log),
          delimiter: first.done ? ',' : first.value.delimiter,
        }
      : { rows: pauseAfterRows(rows(), input.pauseAfterRows, (b) => b.length, log) }),
    beforeCommit: async (stagedRows) => {
      staged = stagedRows;
      const total = staged + rejectedCount;
      if (rejectedCount > 0 && rejectedCount / total > input.maxRejectedRatio) {
        const sample = rejected
          .slice(0, 3)
          .map((r) => `line ${r.line}: ${r.reason}`)
          .join('; ');
        throw new SchemaError(
          `stream ${schema.name}: ${rejectedCount} of ${total} rows rejected, above maxRejectedRatio ${input.maxRejectedRatio}; nothing loaded, watermark unchanged (${sample}). Fix schemas/${schema.name} and run replay --export ${record.ledgerId}`,
        );
      }
    },
    commit: (connection?: SqlConnection) =>
      state.watermarks.commitLoad(
        {
          record,
          loaded: markLoaded(record, { rows: staged, rejectedRows: rejected.length }, input.loadedAt),
          rejected,
          now: input.loadedAt,
          moveWatermark: true,
          firstStart: input.firstStart,
        },
        connection,
      ),
  });
  return {
    ...result,
    rejected: rejectedCount,
    addedColumns: layout.added.map((c) => c.name),
    ignoredHeaders: layout.ignored,
  };
}

/**
 * Test hook, for the end-to-end tests only (the CLI sets `limit` from the environment variable
 * `CXONE_OD_SYNC_TEST_PAUSE_AFTER_ROWS`): once at least `limit` rows have been handed to the
 * destination and it asks for more, the load logs `test hook: paused after <rows> rows` and waits
 * until the process is killed. A test can so SIGKILL a process in the middle of a load, at a
 * point it controls, instead of after a guessed delay. Without a limit, `source` is returned.
 */
function pauseAfterRows<T>(
  source: AsyncIterable<T>,
  limit: number | undefined,
  rowsIn: (batch: T) => number,
  log: Logger,
): AsyncIterable<T> {
  if (!limit) return source;
  return (async function* () {
    let handed = 0;
    for await (const batch of source) {
      yield batch;
      handed += rowsIn(batch);
      if (handed >= limit) {
        log.warn(`test hook: paused after ${handed} rows`, { rows: handed });
        // An interval keeps the event loop alive: the process waits here until it is killed.
        await new Promise(() => setInterval(() => {}, 60_000));
      }
    }
  })();
}
