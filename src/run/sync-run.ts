import { VendorExportFailedError } from '../errors.js';
import { driveExport } from '../export/export-lifecycle.js';
import { redact } from '../log/redact.js';
import { nextStreamAttempt, requestKey, streamBackoffNote } from '../plan/stream-backoff.js';
import { selectStreams } from '../plan/sync-plan.js';
import type { ExportRecord } from '../ports/export-record.js';
import type { StreamConfig } from '../ports/run-settings.js';
import type { StreamBackoff, StreamBackoffReason } from '../ports/state-ports.js';
import type { SyncDeps, SyncOptions } from './sync-deps.js';
import type { SyncReport } from './sync-summary.js';

/**
 * One sync while it runs: its settings, its report, the streams backed off on their own, and how
 * an export is driven. Each phase of `runSync` (resume, plan, request, finish) works on it.
 */
export class SyncRun {
  readonly account: string;
  readonly streams: readonly StreamConfig[];
  readonly byName: ReadonlyMap<string, StreamConfig>;
  readonly parallel: number;
  readonly startedAt: Date;
  /** Streams backed off on their own; read after the resume step (which may back one off). */
  backoffs = new Map<string, StreamBackoff>();
  backoffsRead = false;

  constructor(
    readonly deps: SyncDeps,
    readonly options: SyncOptions,
    readonly report: SyncReport,
  ) {
    this.account = deps.config.accountKey;
    this.streams = selectStreams(deps.config, options.streams);
    this.byName = new Map(this.streams.map((s) => [s.schema.name, s]));
    this.parallel = deps.parallelExports ?? 4;
    this.startedAt = deps.clock.now();
  }

  get signal(): AbortSignal | undefined {
    return this.options.signal;
  }

  now(): Date {
    return this.deps.clock.now();
  }

  /** The streams' note when the run is stopping. */
  stopNote(): string {
    return `${String(this.signal?.reason ?? 'stopped')}; run again to continue`;
  }

  /** One more failure of the stream: its backoff, and the note that says it. */
  async backOff(
    stream: string,
    reason: StreamBackoffReason,
    error: string,
  ): Promise<[StreamBackoff, string]> {
    const { state, log } = this.deps;
    const cfg = this.byName.get(stream)!;
    const now = this.now();
    const backoff = await state.backoffs.recordFailure(
      this.account,
      stream,
      { reason, error, requestKey: requestKey(cfg) },
      now,
      (failures) => nextStreamAttempt(reason, failures, now),
    );
    this.backoffs.set(stream, backoff);
    const note = streamBackoffNote(backoff, cfg);
    log.warn('stream backed off', {
      stream,
      reason,
      failures: backoff.failures,
      until: backoff.nextAttemptAt,
      error,
    });
    return [backoff, note];
  }

  /** The stream works again: its backoff ends (only for `reasons`, when given). */
  async endBackoff(stream: string, reasons?: readonly StreamBackoffReason[]): Promise<void> {
    if (this.backoffsRead && !this.backoffs.has(stream)) return;
    if ((await this.deps.state.backoffs.clear(this.account, [stream], reasons)).length) {
      this.deps.log.info('stream backoff ended: the stream works again', { stream });
      this.backoffs.delete(stream);
    }
  }

  /** Whether another of the account's streams had a request accepted lately (its credentials work). */
  async otherStreamsWork(stream: string): Promise<boolean> {
    const history = await this.deps.state.quota.history(this.account, this.now());
    return [...history.byStream.keys()].some((s) => s !== stream);
  }

  /** Drives one claimed export to its end for this run, records the outcome, and releases the claim. */
  async drive(record: ExportRecord): Promise<void> {
    const { deps, report, signal } = this;
    const { state, log } = deps;
    if (signal?.aborted) {
      // Stopping: the export stays in the ledger as it is and the next sync resumes it.
      report.defer(record.stream, this.stopNote());
      await state.exports.release(record.ledgerId, deps.owner).catch(() => {});
      return;
    }
    try {
      const outcome = await driveExport(
        record,
        this.byName.get(record.stream)!,
        signal ? { ...deps, signal } : deps,
      );
      report.record(outcome);
      if (outcome.kind === 'loaded') await this.endBackoff(record.stream);
      else if (outcome.kind === 'failed' && outcome.error instanceof VendorExportFailedError)
        // The slot is spent and the run fails for the stream; it also waits before the next one.
        report.backOff(
          record.stream,
          ...(await this.backOff(record.stream, 'vendor_failed', redact(outcome.error.message))),
          true,
        );
    } catch (err) {
      const error = redact((err as Error).message);
      report.fail(
        record.stream,
        error,
        (await state.exports.get(record.ledgerId).catch(() => undefined)) ?? record,
      );
      log.error('export failed', { stream: record.stream, ledgerId: record.ledgerId, error });
    } finally {
      await state.exports.release(record.ledgerId, deps.owner).catch(() => {});
    }
  }
}
