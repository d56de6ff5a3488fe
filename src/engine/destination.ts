import type { CompiledQuery } from 'kysely';
import type { ColumnSpec, StreamSchema } from '../model/stream-schema.js';
import type { Window } from '../model/window.js';
import type { TypedRow } from '../parse/row-typer.js';
import type { TypedBatch } from '../parse/typed-batch.js';

/**
 * What a destination can do, as data (dlt's destination capabilities): the engine asks, it never
 * tests a destination's type.
 */
export interface DestinationCapabilities {
  /** State-store statements can run inside the destination's data transaction (same database). */
  readonly transactionalState: boolean;
  /** Replacing a window is atomic: readers never see it half-loaded. */
  readonly windowReplace: boolean;
  /**
   * Bulk load (PostgreSQL COPY): the job carries the scanned batches with their typed values
   * (`batches`), and the destination encodes them for its loader, copying bytes where it can.
   * Otherwise the job carries typed row batches (`rows`).
   */
  readonly copy: boolean;
}

interface LoadJobCommon {
  readonly schema: StreamSchema;
  /** The columns of `rows`' values, in order. */
  readonly columns: readonly ColumnSpec[];
  /** `_export_id` of every row. */
  readonly exportKey: string;
  readonly window: Window;
  readonly loadedAt: Date;
  /**
   * Called once every row is staged and before anything is visible: throws to abandon the load
   * (too many rejected rows, say), or returns the state-store statements that commit it. A
   * destination with `transactionalState` runs them in its own transaction; otherwise the engine
   * runs them after `load` returns.
   */
  beforeCommit(stagedRows: number): Promise<CompiledQuery[]>;
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
  /** Creates the stream's table (typed, documented, indexed) and adds columns found by drift. */
  prepare(schema: StreamSchema, added: readonly ColumnSpec[]): Promise<void>;
  /** Replaces the window with the job's rows, atomically. */
  load(job: LoadJob): Promise<LoadResult>;
  close(): Promise<void>;
}
