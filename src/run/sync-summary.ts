import { ExitCode } from '../errors.js';
import type { DriveOutcome } from '../export/export-lifecycle.js';
import type { Logger } from '../log/logger.js';
import { redact } from '../log/redact.js';
import type { PlannedGap } from '../plan/planner.js';
import type { Clock } from '../ports/clock.js';
import type { ExportRecord } from '../ports/export-record.js';
import type { QuotaView, StreamBackoff, StreamBackoffReason } from '../ports/state-ports.js';

/**
 * How a stream ended this run: `deferred` and `failed` decide the exit code (docs/reference/errors.md).
 * `backing_off`: the API refuses the stream (or its exports keep failing at the vendor) and it
 * waits on its own until `backoff.until`; the run failed when that began, not at every run after.
 */
export type StreamState = 'done' | 'nothing_due' | 'deferred' | 'failed' | 'backing_off';

/** A stream's backoff as the summary shows it. */
export interface StreamBackoffSummary {
  /** not_exposed, refused or vendor_failed. */
  readonly reason: StreamBackoffReason;
  /** Failures in a row; the backoff grows with them. */
  readonly failures: number;
  /** No request of the stream is sent before then. */
  readonly until: string;
  /** The refusal that began it, redacted. */
  readonly error: string;
}

export interface ExportSummary {
  /** The export's id in the state store's ledger (`exports.id`): what `exports`, `replay` take. */
  readonly ledgerId: string;
  /** The vendor's id of the export (null for a file loaded by hand). */
  readonly vendorExportId: string | null;
  /** The rows' `_export_id`: the vendor's id, or `local-<ledgerId>`. */
  readonly exportKey: string;
  /** The same as `vendorExportId`, under its name of earlier versions; kept for orchestrators that read it. */
  readonly exportId: string | null;
  /** The export's window, start inclusive, end exclusive (ISO 8601, UTC). */
  readonly windowStart: string;
  /** The window's end, exclusive. */
  readonly windowEnd: string;
  /** Its ledger status after the run: reserved, submitted, ready, downloaded, loaded or failed. */
  readonly status: string;
  /** Rows loaded (a loaded export). */
  readonly rows?: number;
  /** Rows set aside as rejected (`cxone_od_sync.rejected_rows`). */
  readonly rejected?: number;
  /** Why it is not loaded, redacted. */
  readonly error?: string;
}

export interface StreamSummary {
  /** The stream's name (its table). */
  stream: string;
  /** How the stream ended this run. */
  state: StreamState;
  /** The exports this run worked on: resumed, requested, loaded or kept. */
  exports: ExportSummary[];
  /** Windows the vendor can no longer export (the 4-month rule), recorded in this run. */
  gaps: {
    /** The gap's start, inclusive. */
    start: string;
    /** Its end, exclusive. */
    end: string;
    /** Why it cannot be exported. */
    reason: string;
  }[];
  /** Why the stream did what it did (deferred until a slot, still processing, ...). */
  note?: string;
  /** What failed, redacted (a failed stream). */
  error?: string;
  /** When its next export is expected to be due, for a stream that was not due in this run. */
  nextDueAt?: string;
  /** Set when the stream is backed off on its own (refused by the API, failing at the vendor). */
  backoff?: StreamBackoffSummary;
}

/** The JSON summary of `sync --json` (docs/reference/json-summary.md). */
export interface SyncSummary {
  /** Always `sync`. */
  readonly command: 'sync';
  /** The worst of the streams' states: a failed stream fails the run, a deferred one defers it. */
  readonly outcome: 'done' | 'deferred' | 'failed';
  /** The process's exit code for this outcome (docs/reference/errors.md). */
  readonly exitCode: number;
  /** The account's key: the `accounts:` key or `account.name` (the rows' `_account`). */
  readonly account: string;
  /** When the run began and ended (ISO 8601, UTC). */
  readonly startedAt: string;
  /** When the run ended. */
  readonly endedAt: string;
  /** New export requests the vendor accepted in this run (each spends a quota slot). */
  readonly exportsRequested: number;
  /** Rows committed in this run, over every stream. */
  readonly rowsLoaded: number;
  /** The account's rolling 24-hour quota after the run. */
  readonly quota: {
    /** Requests the connector may have in any rolling 24 h: `perDay` less `reservedForOthers`. */
    limit: number;
    /** Requests counted in the last 24 h. */
    used: number;
    /** When the earliest counted request leaves the 24 h (null: a slot is free). */
    nextSlotAt: string | null;
    /** No request is sent before then: the API refused one for the quota (null: none). */
    blockedUntil: string | null;
    /** `exportsPer24h`. */
    perDay: number;
    /** Left to others: `reserveForOthers`, or more while someone else was seen using more. */
    reservedForOthers: number;
    /** Someone else's use a quota refusal revealed, remembered until `until`. */
    othersSeen: {
      /** Slots someone else was seen to use. */
      slots: number;
      /** Remembered until then. */
      until: string;
    } | null;
  };
  /** The same as `quota.nextSlotAt`, at the top for orchestrators. */
  readonly nextSlotAt: string | null;
  /** The earliest time a stream not due in this run is expected to be (null when none waits). */
  readonly nextDueAt: string | null;
  /** One entry per stream of the account, in the config's order. */
  readonly streams: StreamSummary[];
}

/** The summary as `sync --json` prints it: the run's summary and its id in the run log. */
export interface SyncOutput extends SyncSummary {
  /** The run's id in the state store's run log (`cxone_od_sync.runs`). */
  readonly runId: string;
}

/**
 * What a sync had done when an error ended it (the state store lost, say): its streams as far
 * as they got, and what it requested and loaded. `sync --json` prints it with the error.
 */
export interface SyncSoFar {
  readonly account: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly exportsRequested: number;
  readonly rowsLoaded: number;
  readonly streams: StreamSummary[];
}

/** The summaries so far of the syncs an error ended, by that error (see `SyncReport.keepOnError`). */
const endedSyncs = new WeakMap<object, SyncSoFar>();

/** What the sync that `err` ended had done (when a sync's run threw it). */
export function syncSoFar(err: unknown): SyncSoFar | undefined {
  return typeof err === 'object' && err !== null ? endedSyncs.get(err) : undefined;
}

/** The quota as the summary (and `status`, `plan`) show it. */
export function quotaSummary(q: QuotaView): SyncSummary['quota'] {
  return {
    limit: q.limit,
    used: q.used,
    nextSlotAt: q.nextSlotAt?.toISOString() ?? null,
    blockedUntil: q.blockedUntil?.toISOString() ?? null,
    perDay: q.perDay,
    reservedForOthers: q.reserved,
    othersSeen: q.othersSeen ? { slots: q.othersSeen.slots, until: q.othersSeen.until.toISOString() } : null,
  };
}

/** One export as the summary shows it. */
function exportSummary(record: ExportRecord, extra: Partial<ExportSummary> = {}): ExportSummary {
  return {
    ledgerId: record.ledgerId,
    vendorExportId: record.vendorExportId,
    exportKey: record.exportKey,
    exportId: record.vendorExportId,
    windowStart: record.windowStart.toISOString(),
    windowEnd: record.windowEnd.toISOString(),
    status: record.status,
    ...(record.rows !== null ? { rows: record.rows } : {}),
    ...(record.rejectedRows !== null ? { rejected: record.rejectedRows } : {}),
    ...(record.error && record.status !== 'loaded' ? { error: record.error } : {}),
    ...extra,
  };
}

/**
 * What a sync did, stream by stream, as it goes: the runner records outcomes here and `finish`
 * turns them into the summary and its exit code. A failed stream stays failed; a deferred one
 * is not marked done again.
 */
export class SyncReport {
  private readonly streams: Map<string, StreamSummary>;
  rowsLoaded = 0;
  exportsRequested = 0;

  constructor(
    names: readonly string[],
    private readonly log: Logger,
  ) {
    this.streams = new Map(names.map((n) => [n, { stream: n, state: 'nothing_due', exports: [], gaps: [] }]));
  }

  stream(name: string): StreamSummary {
    return this.streams.get(name)!;
  }

  /** Whether the stream can take more work this run (not failed, deferred or backing off). */
  open(name: string): boolean {
    const s = this.stream(name).state;
    return s !== 'failed' && s !== 'deferred' && s !== 'backing_off';
  }

  /**
   * The stream is backed off (`row`): with `failed`, this run is where it failed (the summary
   * says so and the exit code is 1); else it only waits, and the exit code is the other streams'.
   * `record`: the refused request's export, shown with the stream's exports.
   */
  backOff(name: string, row: StreamBackoff, note: string, failed: boolean, record?: ExportRecord): void {
    const s = this.stream(name);
    if (record) s.exports.push(exportSummary(record, { error: row.error }));
    s.backoff = {
      reason: row.reason,
      failures: row.failures,
      until: row.nextAttemptAt.toISOString(),
      error: row.error,
    };
    s.nextDueAt = s.backoff.until;
    if (failed) {
      s.state = 'failed';
      s.error = note;
    } else {
      if (s.state !== 'failed') s.state = 'backing_off';
      s.note = note;
    }
  }

  defer(name: string, note: string): void {
    const s = this.stream(name);
    if (s.state !== 'failed') s.state = 'deferred';
    s.note = note;
  }

  fail(name: string, error: string, record?: ExportRecord): void {
    const s = this.stream(name);
    s.state = 'failed';
    s.error = error;
    if (record) s.exports.push(exportSummary(record, { error }));
  }

  /** An export found already loaded (an explicit window run again). */
  alreadyLoaded(name: string, record: ExportRecord): void {
    const s = this.stream(name);
    s.exports.push(exportSummary(record));
    s.note = `window already loaded by export ${record.ledgerId}; use replay --export ${record.ledgerId} to load it again`;
    if (s.state === 'nothing_due') s.state = 'done';
  }

  gap(name: string, g: PlannedGap): void {
    this.stream(name).gaps.push({ start: g.start.toISOString(), end: g.end.toISOString(), reason: g.reason });
  }

  note(name: string, note: string): void {
    this.stream(name).note = note;
  }

  /** A stream the scheduler did not give a request this run: when it will be due, and why not now. */
  notDue(name: string, dueAt: Date, reason: string): void {
    const s = this.stream(name);
    s.note = `not due: ${reason}`;
    s.nextDueAt = dueAt.toISOString();
  }

  /** A stream the scheduler gave a request after all (a slot another stream could not use). */
  due(name: string): void {
    const s = this.stream(name);
    delete s.note;
    delete s.nextDueAt;
  }

  /** Records where one export's lifecycle ended this run. */
  record(outcome: DriveOutcome): void {
    const s = this.stream(outcome.record.stream);
    if (outcome.kind === 'loaded') {
      this.rowsLoaded += outcome.load.rows;
      s.exports.push(
        exportSummary(outcome.record, { rows: outcome.load.rows, rejected: outcome.load.rejected }),
      );
      if (s.state === 'nothing_due') s.state = 'done';
    } else if (outcome.kind === 'abandoned') {
      s.exports.push(exportSummary(outcome.record));
      s.note = outcome.reason;
    } else if (outcome.kind === 'in_flight') {
      s.exports.push(exportSummary(outcome.record));
      this.defer(s.stream, outcome.reason);
    } else {
      const error = redact(outcome.error.message);
      this.fail(s.stream, error, outcome.record);
      this.log.error('export failed', {
        stream: s.stream,
        ledgerId: outcome.record.ledgerId,
        retryable: outcome.retryable,
        error,
      });
    }
  }

  /** Streams that still have windows queued (split windows beyond the quota) are deferred. */
  deferQueued(queue: ReadonlyMap<string, readonly unknown[]>): void {
    for (const [name, ws] of queue) {
      if (ws.length > 0 && this.stream(name).state === 'done')
        this.defer(name, `${ws.length} more window(s) due`);
    }
  }

  /**
   * Runs `sync`; an error that ends it is thrown again with what was done so far kept with it
   * (`syncSoFar`), the streams still open noted as not finished.
   */
  async keepOnError(account: string, clock: Clock, sync: () => Promise<SyncSummary>): Promise<SyncSummary> {
    const startedAt = clock.now();
    try {
      return await sync();
    } catch (err) {
      if (typeof err !== 'object' || err === null) throw err;
      const unfinished = 'not finished: the sync stopped on an error';
      for (const s of this.streams.values())
        if (s.state === 'nothing_due') s.note = s.note ? `${s.note}; ${unfinished}` : unfinished;
      endedSyncs.set(err, {
        account,
        startedAt: startedAt.toISOString(),
        endedAt: clock.now().toISOString(),
        exportsRequested: this.exportsRequested,
        rowsLoaded: this.rowsLoaded,
        streams: [...this.streams.values()],
      });
      throw err;
    }
  }

  finish(input: {
    account: string;
    startedAt: Date;
    endedAt: Date;
    quota: QuotaView;
    nextSlotAt: Date | null;
  }): SyncSummary {
    const list = [...this.streams.values()];
    const failed = list.some((s) => s.state === 'failed');
    const deferred = list.some((s) => s.state === 'deferred');
    return {
      command: 'sync',
      outcome: failed ? 'failed' : deferred ? 'deferred' : 'done',
      exitCode: failed ? ExitCode.failed : deferred ? ExitCode.deferred : ExitCode.done,
      account: input.account,
      startedAt: input.startedAt.toISOString(),
      endedAt: input.endedAt.toISOString(),
      exportsRequested: this.exportsRequested,
      rowsLoaded: this.rowsLoaded,
      quota: quotaSummary(input.quota),
      nextSlotAt: deferred || failed ? (input.nextSlotAt?.toISOString() ?? null) : null,
      nextDueAt:
        list
          .map((s) => s.nextDueAt)
          .filter((d): d is string => d !== undefined)
          .sort()[0] ?? null,
      streams: list,
    };
  }
}
