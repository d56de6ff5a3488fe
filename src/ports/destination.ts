import type { z } from 'zod';
import {
  type ColumnSpec,
  loadMetadataColumns,
  type MetadataColumn,
  type StreamSchema,
} from '../model/stream-schema.js';
import type { Window } from '../model/window.js';
import type { TypedRow } from '../parse/row-typer.js';
import type { TypedBatch } from '../parse/typed-batch.js';
import type { DatasetName } from './lineage.js';
import type { SqlConnection, SqlPool } from './sql.js';

/**
 * What a destination can do, as data (dlt's destination capabilities): the engine asks, it never
 * tests a destination's type.
 */
export interface DestinationCapabilities {
  /**
   * Bulk load (PostgreSQL COPY): the job carries the scanned batches with their typed values
   * (`batches`), and the destination encodes them for its loader, copying bytes where it can.
   * Otherwise the job carries typed row batches (`rows`). The destination decides it from its
   * options and its connection (a PostgreSQL destination: its `copy` setting, on a server it
   * reaches through node-postgres); the engine only reads it. Every destination replaces a
   * window atomically (`Destination.load`), so that is no capability.
   */
  readonly copy: boolean;
}

interface LoadJobCommon {
  readonly schema: StreamSchema;
  /** The columns of `rows`' values, in order. */
  readonly columns: readonly ColumnSpec[];
  /** `_export_id` of every row. */
  readonly exportKey: string;
  /** `_account` of every row: the account whose rows of the window the load replaces. */
  readonly account: string;
  readonly window: Window;
  readonly loadedAt: Date;
  /**
   * Called once every row is staged and before anything is visible: throws to abandon the load
   * (too many rejected rows, say).
   */
  beforeCommit(stagedRows: number): Promise<void>;
  /**
   * Commits the load's state (the export marked loaded, its rejected rows, the watermark moved).
   * A destination writing the state store's own database calls it inside its data transaction,
   * with that transaction's connection, so that data and state commit together; any other calls
   * it once its data is visible, without one (a crash in between loads the export again, and the
   * window's replace gives the same table).
   */
  commit(connection?: SqlConnection): Promise<void>;
}

/** A load: the rows as typed row batches (one await per batch, not per row), or as typed scanned batches for a `copy` destination. */
export type LoadJob = LoadJobCommon &
  (
    | { readonly rows: AsyncIterable<readonly TypedRow[]>; readonly batches?: undefined }
    | {
        readonly batches: AsyncIterable<TypedBatch>;
        /** The file's delimiter (the batches' text bytes are written with it). */
        readonly delimiter: string;
        readonly rows?: undefined;
      }
  );

/** A metadata column whose value is the same for every row of a load, with that value. */
export interface LoadConstant {
  readonly column: MetadataColumn;
  readonly value: string | Date;
}

type ConstantColumnName = Exclude<MetadataColumn['name'], '_source_line'>;

/**
 * The load's constant metadata values (`_export_id`, the window, `_loaded_at`, `_account`) in
 * `loadMetadataColumns` order, after `_source_line`, the one value a row brings itself: what
 * every encoder appends to a row after its values and its line. The single place that maps the
 * job to those columns.
 */
export function loadConstants(
  job: Pick<LoadJobCommon, 'exportKey' | 'window' | 'loadedAt' | 'account'>,
): LoadConstant[] {
  const values: Record<ConstantColumnName, string | Date> = {
    _export_id: job.exportKey,
    _window_start: job.window.start,
    _window_end: job.window.end,
    _loaded_at: job.loadedAt,
    _account: job.account,
  };
  return loadMetadataColumns
    .filter((c) => c.name !== '_source_line')
    .map((c) => ({ column: c, value: values[c.name as ConstantColumnName] }));
}

/**
 * The account that loaded the rows a table holds from before it had an `_account` column (a
 * single-account deployment of an earlier version); a destination asks only when it finds such
 * a table.
 */
export type ExistingRowsAccount = () => Promise<string>;

export interface LoadResult {
  readonly rows: number;
  /** Rows the window held before it was replaced. */
  readonly replaced: number;
}

export interface Destination {
  readonly name: string;
  readonly capabilities: DestinationCapabilities;
  /**
   * Reaches the destination and checks the permissions a sync of these streams needs; changes
   * nothing. Returns what it found, for `check` to print.
   */
  check(streams: readonly StreamSchema[]): Promise<string>;
  /**
   * Creates the stream's table (typed, documented, indexed) and adds columns found by drift. A
   * table made before the `_account` column gains it, its rows set to `existingRowsAccount()`
   * (asked only then). A table already up to date costs a lookup and takes no lock: cheap
   * enough for the start of every sync, which so fails on a destination that is down before
   * any export is driven or spent.
   */
  ensureTable(
    schema: StreamSchema,
    added: readonly ColumnSpec[],
    existingRowsAccount: ExistingRowsAccount,
  ): Promise<void>;
  /** Replaces the account's rows of the window with the job's rows, atomically. */
  load(job: LoadJob): Promise<LoadResult>;
  /**
   * The stream's table as lineage systems name it (OpenLineage's naming conventions for this
   * kind of warehouse), without credentials. Pure: no connection is made.
   */
  datasetFor(schema: StreamSchema): DatasetName;
  close(): Promise<void>;
}

/** What a destination is created with besides its own config section. */
export interface DestinationContext {
  /** The state store's database URL: a destination writing that same database commits the state with its data. */
  readonly stateUrl: string;
  /**
   * A pool that stands in for the destination's database (the embedded PGlite database of
   * `demo`); given only to a destination whose factory names a `databaseUrl`.
   */
  readonly pool?: SqlPool;
}

/** How SQL tools (dbt's `sources.yml`) address a destination's tables. */
export interface TableLocation {
  /** dbt's `database`: PostgreSQL's database, BigQuery's project. */
  readonly database: string;
  /** dbt's `schema`: PostgreSQL's schema, BigQuery's dataset. */
  readonly schema: string;
  /**
   * A SQL expression of the destination's dialect joining these columns' values as text, with
   * `:` between them: a compound key for dbt's `unique` test.
   */
  textKey(columns: readonly string[]): string;
}

/**
 * A destination's section of the config file, as data: its `type`, its zod schema, and what the
 * config and the CLI know of it without creating it. It lives in `src/config/destinations/`, so
 * that the config layer builds the `destination` union without importing a connector.
 */
export interface DestinationSection<
  Schema extends z.ZodType<{ type: string }> = z.ZodType<{ type: string }>,
> {
  /** The `destination.type` that selects it. */
  readonly type: z.output<Schema>['type'];
  /** Its `destination` config section: a zod object whose `type` is the literal `type`. */
  readonly configSchema: Schema;
  /**
   * The PostgreSQL database the destination writes, when it writes one: `state.url` may then be
   * left out (the state store lives in that database and commits with the data), its password
   * is redacted from logs, and the embedded database can stand in for it. `undefined` for any
   * other destination.
   */
  databaseUrl(config: z.output<Schema>): string | undefined;
  /** Where its tables are, as SQL tools name them (`dbt-sources`). */
  tableLocation(config: z.output<Schema>): TableLocation;
}

/**
 * A kind of destination (dlt's destination factory, kysely's `Dialect`): its config section and
 * how to create it. A new destination is a section in `src/config/destinations/` (one line in
 * its registry there), and a connector folder whose `index.ts` exports the factory built on that
 * section (one line in `connectors/destinations.ts`); the composition root creates it, the
 * engine only ever sees the `Destination` it creates.
 */
export interface DestinationFactory<Schema extends z.ZodType<{ type: string }> = z.ZodType<{ type: string }>>
  extends DestinationSection<Schema> {
  /** The destination for a validated config section; throws a ConfigError for what zod cannot check (a missing file). */
  create(config: z.output<Schema>, context: DestinationContext): Destination;
}
