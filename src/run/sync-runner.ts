import type { AccountConfig } from '../config/load-config.js';
import { AuthError, type QuotaExhaustedError, VendorExportFailedError } from '../errors.js';
import { checkArchiveDir } from '../export/archive-check.js';
import { pruneArchive } from '../export/archive-prune.js';
import { backoffNote, inBackoff } from '../export/export-backoff.js';
import { applyJournal } from '../export/export-journal.js';
import { driveExport, type LifecycleDeps } from '../export/export-lifecycle.js';
import { type RequestsInFlight, requestExport } from '../export/export-request.js';
import { existingRowsAccount } from '../load/account-column.js';
import { redact } from '../log/redact.js';
import type { Window } from '../model/window.js';
import { maxSlotWaitMs } from '../plan/scheduler.js';
import {
  backoffsInForce,
  endedByAcceptance,
  nextStreamAttempt,
  requestKey,
  streamBackoffNote,
  streamFailureReason,
} from '../plan/stream-backoff.js';
import { planStreams, selectStreams } from '../plan/sync-plan.js';
import { type RetryPolicy, realSleep, type Sleep, sleepUnlessAborted } from '../retry/retry.js';
import { claimHost } from '../state/export-ledger.js';
import {
  type ExportRow,
  type StreamBackoffReason,
  type StreamBackoffRow,
  unfinishedStatuses,
} from '../state/state-tables.js';
import { assertClockAgrees } from './clock-check.js';
import { eachLimited } from './each-limited.js';
import { recordNextDue } from './next-due.js';
import { scheduleRun } from './sync-schedule.js';
import { SyncReport, type SyncSummary } from './sync-summary.js';

export type { ExportSummary, StreamState, StreamSummary, SyncSummary } from './sync-summary.js';

export interface SyncOptions {
  /** Only these streams (default: every enabled stream). */
  readonly streams?: readonly string[];
  /** An explicit window (Airflow data interval), instead of the incremental one. */
  readonly window?: Window;
  /** At most this many new export requests in this run. */
  readonly maxExports?: number;
  /**
   * Aborted when the run must stop (SIGTERM, SIGINT): no new request or export is started after
   * it; requests in flight finish and are recorded. Its `reason` (a string) is the streams' note.
   */
  readonly signal?: AbortSignal;
  /** Do not wait for a quota slot about to free (`--no-wait`). */
  readonly noWait?: boolean;
  /** This run's id in the run log (the scheduler reads the earlier runs). */
  readonly runId?: string;
}

export interface SyncDeps extends LifecycleDeps {
  readonly config: AccountConfig;
  /** Exports polled, downloaded and loaded at once (default 4). */
  readonly parallelExports?: number;
  /** Retries of the ledger write that records an accepted export (default `defaultLedgerRetry`). */
  readonly ledgerRetry?: RetryPolicy;
  /** A stopping sync's export requests in flight, waited for past its grace (`sync` gives it). */
  readonly requestsInFlight?: RequestsInFlight;
  /** The wait between those retries (tests pass a fast one). */
  readonly sleep?: Sleep;
}

/**
 * One sync (SPEC section 3): apply the journal, prepare every enabled stream's table, finish
 * every unfinished export first, then plan the due windows of the streams not backed off, let
 * the scheduler choose which streams spend the quota now (an explicit window: stalest first),
 * reserve, request, and drive each export to loaded; last, record each stream's next due time.
 * A stream the API refuses is backed off on its own and its slot offered to the next stream at
 * once; one whose export fails at the vendor is backed off too. Returns a summary whose
 * `exitCode` follows SPEC section 6; an error that ends the run keeps what it did (`syncSoFar`).
 */
export async function runSync(deps: SyncDeps, options: SyncOptions = {}): Promise<SyncSummary> {
  const names = selectStreams(deps.config, options.streams).map((s) => s.schema.name);
  const report = new SyncReport(names, deps.log);
  return report.keepOnError(deps.config.accountKey, deps.clock, () => syncStreams(deps, options, report));
}

async function syncStreams(deps: SyncDeps, options: SyncOptions, report: SyncReport): Promise<SyncSummary> {
  const { config, state, clock, log } = deps;
  const startedAt = clock.now();
  const account = config.accountKey;
  const streams = selectStreams(config, options.streams);
  const byName = new Map(streams.map((s) => [s.schema.name, s]));
  const parallel = deps.parallelExports ?? 4;
  const signal = options.signal;
  const stopNote = () => `${String(signal?.reason ?? 'stopped')}; run again to continue`;

  // The archive must take a file before an export is resumed or a quota slot is spent on one.
  await checkArchiveDir(deps.archiveDir, config.archive.minFreeMB);

  // 0. Vendor answers the ledger could not take last time (a local journal) go in first.
  await applyJournal(state, deps.archiveDir, account, clock.now(), log);
  // Every enabled stream's table exists from the first sync on, loaded or not; and a
  // destination that cannot be reached fails the run here, before any export is driven or spent.
  for (const s of config.streams)
    await deps.destination.prepare(s.schema, [], existingRowsAccount(state, s.schema.name, deps.soleAccount));

  // Streams backed off on their own: read after the resume step (which may back one off).
  let backoffRows: Map<string, StreamBackoffRow> = new Map();
  const backOff = async (
    stream: string,
    reason: StreamBackoffReason,
    error: string,
  ): Promise<[StreamBackoffRow, string]> => {
    const cfg = byName.get(stream)!;
    const now = clock.now();
    const row = await state.backoffs.recordFailure(
      account,
      stream,
      { reason, error, requestKey: requestKey(cfg) },
      now,
      (failures) => nextStreamAttempt(reason, failures, now),
    );
    backoffRows.set(stream, row);
    const note = streamBackoffNote(row, cfg);
    log.warn('stream backed off', {
      stream,
      reason,
      failures: row.failures,
      until: row.next_attempt_at,
      error,
    });
    return [row, note];
  };
  let backoffsRead = false;
  /** Whether another of the account's streams had a request accepted lately (its credentials work). */
  const otherStreamsWork = async (stream: string): Promise<boolean> =>
    [...(await state.quota.history(account, clock.now())).byStream.keys()].some((s) => s !== stream);
  const endBackoff = async (stream: string, reasons?: readonly StreamBackoffReason[]): Promise<void> => {
    if (backoffsRead && !backoffRows.has(stream)) return;
    if ((await state.backoffs.clear(account, [stream], reasons)).length) {
      log.info('stream backoff ended: the stream works again', { stream });
      backoffRows.delete(stream);
    }
  };

  const drive = async (row: ExportRow): Promise<void> => {
    if (signal?.aborted) {
      // Stopping: the export stays in the ledger as it is and the next sync resumes it.
      report.defer(row.stream, stopNote());
      await state.exports.release(row.id, deps.owner).catch(() => {});
      return;
    }
    try {
      const outcome = await driveExport(row, byName.get(row.stream)!, signal ? { ...deps, signal } : deps);
      report.record(outcome);
      if (outcome.kind === 'loaded') await endBackoff(row.stream);
      else if (outcome.kind === 'failed' && outcome.error instanceof VendorExportFailedError)
        // The slot is spent and the run fails for the stream; it also waits before the next one.
        report.backOff(
          row.stream,
          ...(await backOff(row.stream, 'vendor_failed', redact(outcome.error.message))),
          true,
        );
    } catch (err) {
      const error = redact((err as Error).message);
      report.fail(row.stream, error, (await state.exports.get(row.id).catch(() => undefined)) ?? row);
      log.error('export failed', { stream: row.stream, export: row.id, error });
    } finally {
      await state.exports.release(row.id, deps.owner).catch(() => {});
    }
  };

  // 1. Resume: every unfinished export of these streams, before any quota is spent.
  const resumable: ExportRow[] = [];
  for (const row of await state.exports.unfinished(account, [...byName.keys()])) {
    if (inBackoff(row, clock.now())) {
      // Stuck: skipped until its backoff ends; its stream takes no new window meanwhile.
      report.fail(row.stream, backoffNote(row), row);
      continue;
    }
    const claimed = await state.exports.claim(row.id, deps.owner, clock.now());
    if (!claimed) {
      report.defer(
        row.stream,
        `export ${row.id} is being worked on by another process (${claimHost(row) ?? 'unknown host'})`,
      );
      continue;
    }
    if (!(unfinishedStatuses as readonly string[]).includes(claimed.status)) {
      // Another process finished it between the listing and the claim.
      await state.exports.release(claimed.id, deps.owner);
      continue;
    }
    log.info('resuming unfinished export', { stream: row.stream, export: row.id, status: claimed.status });
    resumable.push(claimed);
  }
  await eachLimited(resumable, parallel, drive);

  // Streams the API refuses, or whose exports fail at the vendor, wait on their own: an
  // incremental sync leaves them out; an explicit window (a deliberate request) fails for them.
  backoffRows = await state.backoffs.byStream(account);
  backoffsRead = true;
  // A stream the config no longer enables (as a backoff's note advises) has no backoff any more.
  const disabled = [...backoffRows.keys()].filter((n) => !config.streams.some((s) => s.schema.name === n));
  if (disabled.length) for (const n of await state.backoffs.clear(account, disabled)) backoffRows.delete(n);
  for (const [name, row] of backoffsInForce(streams, backoffRows, clock.now())) {
    if (!report.open(name)) continue;
    const note = streamBackoffNote(row, byName.get(name)!);
    if (options.window) report.fail(name, `not requested: ${note}`);
    else report.backOff(name, row, note, false);
  }

  // 2. Plan every stream that is free to take new work.
  const watermarks = await state.watermarks.byStream(account);
  const planned = planStreams(
    streams.filter((s) => report.open(s.schema.name)),
    watermarks,
    clock.now(),
    config.horizon,
    options.window,
  );
  // Nothing is recorded or requested by a clock the vendor disagrees with.
  const clockChecked =
    !planned.some(({ plan }) => plan.windows.length || plan.gaps.length) ||
    (await assertClockAgrees(deps.client, log, clock.now()));
  const queue = new Map<string, Window[]>();
  for (const { stream, plan } of planned) {
    const name = stream.schema.name;
    for (const g of clockChecked ? plan.gaps : []) {
      await state.watermarks.recordGap(account, name, g.start, g.end, g.reason, clock.now());
      report.gap(name, g);
      log.warn('gap recorded', { stream: name, start: g.start, end: g.end, reason: g.reason });
    }
    if (plan.moveWatermarkTo && clockChecked) {
      await state.watermarks.set(account, name, plan.moveWatermarkTo, clock.now());
      watermarks.set(name, plan.moveWatermarkTo);
    }
    if (plan.note) report.note(name, plan.note);
    const windows: Window[] = [];
    for (const w of plan.windows) {
      // An explicit window already loaded is not requested again (an orchestrator's rerun).
      const prior = options.window ? await state.exports.loadedFor(account, name, w) : undefined;
      if (prior) report.alreadyLoaded(name, prior);
      else windows.push(w);
    }
    queue.set(name, windows);
    if (!clockChecked && windows.length) {
      // No request on a clock the vendor has not confirmed (a clock days fast would move the
      // watermark into the future); without a token nothing could be sent anyway.
      report.fail(
        name,
        "not requested, no quota spent: the vendor's clock could not be read (the token endpoint did not answer); run again",
      );
      queue.set(name, []);
    }
  }

  // 3. Which streams spend the quota now: an explicit window is a deliberate request, served
  // stalest first when a slot is free; otherwise the scheduler decides (pacing, fair share,
  // worthwhile windows only), and decides again for the streams it passed over when a stream
  // the API refuses could not use its slot. `planStreams` gives the stalest-first order.
  const order: string[] = options.window ? planned.map(({ stream }) => stream.schema.name) : [];
  let waitForSlotMs = maxSlotWaitMs;
  // The windows of the streams the scheduler passed over, kept for a slot offered again.
  const passedOver = new Map<string, Window[]>();
  const offer = async (): Promise<void> => {
    const now = clock.now();
    const candidates = new Map(
      [...queue, ...passedOver].filter(([n, ws]) => ws.length > 0 && report.open(n) && !order.includes(n)),
    );
    if (candidates.size === 0) return;
    const decision = await scheduleRun({
      state,
      config,
      now,
      queue: candidates,
      watermarks,
      runId: options.runId,
    });
    waitForSlotMs = decision.slotWaitMs;
    for (const d of decision.streams) {
      if (d.request) {
        order.push(d.stream);
        if (passedOver.has(d.stream)) {
          queue.set(d.stream, passedOver.get(d.stream)!);
          passedOver.delete(d.stream);
          report.due(d.stream);
        }
      } else if (!passedOver.has(d.stream)) {
        report.notDue(d.stream, d.dueAt, d.reason ?? 'not its turn');
        passedOver.set(d.stream, queue.get(d.stream) ?? []);
        queue.set(d.stream, []);
      }
    }
  };
  if (!options.window) await offer();
  const due = (n: string) => order.includes(n) && (queue.get(n)?.length ?? 0) > 0 && report.open(n);

  // 4. Reserve, request and drive, in that order, until the quota or the plan runs out.
  let quotaStop: QuotaExhaustedError | undefined;
  let unreachable: string | undefined;
  let nextSlotAt: Date | null = null;
  const sleep = deps.sleep ?? realSleep;
  for (;;) {
    const dueNow = order.filter(due);
    if (dueNow.length === 0 || quotaStop || unreachable || signal?.aborted) break;
    const inFlight: ExportRow[] = [];
    let refused = false;
    for (const name of dueNow) {
      if (options.maxExports !== undefined && report.exportsRequested >= options.maxExports) {
        report.defer(name, `--max-exports ${options.maxExports} reached`);
        continue;
      }
      if (quotaStop) {
        report.defer(name, quotaStop.message);
        continue;
      }
      if (unreachable) {
        report.fail(name, unreachable);
        continue;
      }
      const window = queue.get(name)!.shift()!;
      // An incremental window was planned from the watermark: a reset since then makes it void.
      const plannedFrom = options.window ? undefined : watermarks.get(name);
      const request = () => requestExport(deps, byName.get(name)!, window, signal, plannedFrom);
      let requested = await request();
      // A slot that frees within a few minutes is waited for rather than left to the next run;
      // after the API's own refusal, only a short wait (its probe is not waited out).
      for (;;) {
        const waitMs =
          requested.kind === 'quota' && requested.error.nextSlotAt
            ? requested.error.nextSlotAt.getTime() - clock.now().getTime() + 1
            : Number.POSITIVE_INFINITY;
        const longest = requested.kind === 'quota' && requested.vendorBlock ? maxSlotWaitMs : waitForSlotMs;
        if (options.noWait || signal?.aborted || waitMs > longest) break;
        log.info('waiting for a quota slot about to free', { stream: name, waitMs });
        await sleepUnlessAborted(sleep, Math.max(0, waitMs), signal);
        if (signal?.aborted) break;
        requested = await request();
      }
      if (requested.kind === 'stopped') {
        queue.get(name)!.unshift(window);
        report.defer(name, stopNote());
      } else if (requested.kind === 'quota') {
        quotaStop = requested.error;
        nextSlotAt = requested.error.nextSlotAt;
        queue.get(name)!.unshift(window);
        report.defer(name, requested.error.message);
      } else if (requested.kind === 'busy') {
        report.defer(name, 'another process has an unfinished export for this stream');
      } else if (requested.kind === 'moved') {
        queue.set(name, []);
        report.defer(name, requested.note);
      } else if (requested.kind === 'failed') {
        // The API cannot be reached at all: the other streams are not tried this run.
        if (requested.notSent) unreachable = requested.error;
        // Refused with nothing spent: the slot goes to the next stream at once.
        else if (requested.row && !requested.row.counts_quota) refused = true;
        const reason = streamFailureReason(requested.cause, {
          explicitWindow: options.window !== undefined,
          otherStreamsWork: requested.cause instanceof AuthError && (await otherStreamsWork(name)),
        });
        if (reason) {
          // The API refuses this stream: it waits on its own. The run fails for it when the
          // backoff begins only.
          const [row, note] = await backOff(name, reason, requested.error);
          report.backOff(name, row, note, row.failures === 1 || options.window !== undefined, requested.row);
        } else report.fail(name, requested.error, requested.row);
      } else {
        report.exportsRequested++;
        inFlight.push(requested.row);
        await endBackoff(name, endedByAcceptance);
      }
    }
    if (refused && !options.window && !quotaStop && !unreachable) await offer();
    await eachLimited(inFlight, parallel, drive);
    if (inFlight.length === 0 && !refused) break;
  }
  report.deferQueued(queue);
  if (signal?.aborted)
    for (const name of byName.keys()) if (report.open(name)) report.defer(name, stopNote());

  const pruned = await pruneArchive(state, account, config.archive.keepDays, clock.now());
  if (pruned) log.info('archive pruned', { files: pruned, keepDays: config.archive.keepDays });
  // Where the freshness view reads each stream's next due time; the run's outcome stands without it.
  await recordNextDue({ state, config, now: clock.now() }).catch((err: unknown) =>
    log.warn('could not record the next due times', { error: redact((err as Error).message) }),
  );
  const quota = await state.quota.view(account, config.quota, clock.now());
  return report.finish({
    account,
    startedAt,
    endedAt: clock.now(),
    quota,
    nextSlotAt: nextSlotAt ?? quota.blockedUntil ?? quota.nextSlotAt,
  });
}
