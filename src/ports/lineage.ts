import { redact } from '../log/redact.js';
import type { StreamSchema } from '../model/stream-schema.js';
import type { Window } from '../model/window.js';
import type { ExportRow } from '../state/state-tables.js';
import type { Destination } from './destination.js';
import type { ExportApi } from './export-api.js';

/**
 * A dataset as lineage systems name it: OpenLineage's naming, a namespace (the data source, a
 * URI such as `postgres://host:5432` or `bigquery`) and a name unique within it
 * (`database.schema.table`, `project.dataset.table`). No credentials in either.
 */
export interface DatasetName {
  readonly namespace: string;
  readonly name: string;
}

/**
 * One load of an export into the warehouse, as a lineage system records it (an OpenLineage run):
 * plain data, named by the source and the destination themselves.
 */
export interface LoadRunStart {
  /** The account key (quota and ledger key) the export belongs to. */
  readonly account: string;
  readonly schema: StreamSchema;
  /** The stream's path in the vendor's API (`Copilot/KBTable`). */
  readonly apiPath: string;
  /** The window the export covers: the run's nominal time. */
  readonly window: Window;
  /** The export's ledger id, and the vendor's id (null for a file loaded by hand). */
  readonly ledgerId: string;
  readonly exportId: string | null;
  /** Size of the archived file being loaded, when the ledger knows it. */
  readonly bytes: number | null;
  /** The source's dataset (the vendor's table of this account), as the source names it. */
  readonly input: DatasetName;
  /** The warehouse table, as the destination names it. */
  readonly output: DatasetName;
}

/** What a load that committed wrote. */
export interface LoadRunResult {
  /** Rows now in the table for the window (the rows committed). */
  readonly rows: number;
  /** Rows of the file set aside as rejected. */
  readonly rejected: number;
  /** Columns added to the table by schema drift in this load. */
  readonly addedColumns: readonly string[];
}

/** The end of one run: the engine calls exactly one of these, once. */
export interface LoadRun {
  completed(result: LoadRunResult): void;
  /** `message` is already free of secrets. */
  failed(message: string): void;
}

/**
 * Observes export loads (lineage). Owned by the engine; an implementation lives in `connectors/`
 * and is composed by the CLI. Its calls never throw and never wait on the network: delivery is
 * the implementation's business, bounded by its own timeout, and a backend that is down or slow
 * changes nothing in the sync.
 */
export interface LoadObserver {
  loadStarted(load: LoadRunStart): LoadRun;
  /** Delivers what is still pending, within the observer's timeout, then gives up on it. */
  close(): Promise<void>;
}

/** A run as the engine drives it: never throws, whatever the observer does. */
export interface ObservedLoad {
  completed(result: LoadRunResult): void;
  failed(error: unknown): void;
}

/**
 * Starts one observed run for a load of `row`'s file into the destination: the engine calls it
 * right before the load, then `completed` with the load's counts or `failed` with its error
 * (redacted here). Without an observer, or when it misbehaves, nothing happens.
 */
export function startLoadRun(
  deps: {
    readonly lineage?: LoadObserver | undefined;
    readonly client: ExportApi;
    readonly destination: Destination;
  },
  row: ExportRow,
  schema: StreamSchema,
): ObservedLoad {
  let run = deps.lineage
    ? guard(() => deps.lineage?.loadStarted(describeLoad(deps, row, schema)))
    : undefined;
  // The first end wins: a step after the commit that throws does not turn a loaded run into FAIL.
  const end = (fn: (r: LoadRun) => void) => {
    const ending = run;
    run = undefined;
    if (ending) guard(() => fn(ending));
  };
  return {
    completed: (result) =>
      end((r) =>
        r.completed({ rows: result.rows, rejected: result.rejected, addedColumns: result.addedColumns }),
      ),
    failed: (error) => end((r) => r.failed(redact(error instanceof Error ? error.message : String(error)))),
  };
}

function describeLoad(
  deps: { readonly client: ExportApi; readonly destination: Destination },
  row: ExportRow,
  schema: StreamSchema,
): LoadRunStart {
  return {
    account: row.account,
    schema,
    apiPath: row.api_path,
    window: { start: row.window_start, end: row.window_end },
    ledgerId: row.id,
    exportId: row.vendor_export_id,
    bytes: row.bytes === null ? null : Number(row.bytes),
    input: deps.client.datasetFor(row.account, schema.name),
    output: deps.destination.datasetFor(schema),
  };
}

function guard<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    // An observer never fails a load.
    return undefined;
  }
}
