import { redact } from '../log/redact.js';
import type { StreamSchema } from '../model/stream-schema.js';
import type { Destination } from '../ports/destination.js';
import type { ExportApi } from '../ports/export-api.js';
import type { ExportRecord } from '../ports/export-record.js';
import type { LoadObserver, LoadRun, LoadRunResult, LoadRunStart } from '../ports/lineage.js';

/** A run as the engine drives it: never throws, whatever the observer does. */
export interface ObservedLoad {
  completed(result: LoadRunResult): void;
  failed(error: unknown): void;
}

/**
 * Starts one observed run for a load of `record`'s file into the destination: the engine calls it
 * right before the load, then `completed` with the load's counts or `failed` with its error
 * (redacted here). Without an observer, or when it misbehaves, nothing happens.
 */
export function startLoadRun(
  deps: {
    readonly lineage?: LoadObserver | undefined;
    readonly client: ExportApi;
    readonly destination: Destination;
  },
  record: ExportRecord,
  schema: StreamSchema,
): ObservedLoad {
  let run = deps.lineage
    ? guard(() => deps.lineage?.loadStarted(describeLoad(deps, record, schema)))
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
  record: ExportRecord,
  schema: StreamSchema,
): LoadRunStart {
  return {
    account: record.account,
    schema,
    apiPath: record.apiPath,
    window: { start: record.windowStart, end: record.windowEnd },
    ledgerId: record.ledgerId,
    vendorExportId: record.vendorExportId,
    bytes: record.bytes,
    input: deps.client.datasetFor(record.account, schema.name),
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
