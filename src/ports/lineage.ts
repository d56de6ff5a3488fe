import type { StreamSchema } from '../model/stream-schema.js';
import type { Window } from '../model/window.js';

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
  readonly vendorExportId: string | null;
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
