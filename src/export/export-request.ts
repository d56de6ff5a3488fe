import {
  AuthError,
  ExportRefusedError,
  HorizonError,
  isRetryable,
  QuotaExhaustedError,
  RequestNotSentError,
  RequestNotTakenError,
} from '../errors.js';
import { requestFailed, reserve, recordSubmitted as submittedPatch } from '../ledger/export-transitions.js';
import { redact } from '../log/redact.js';
import type { Window } from '../model/window.js';
import { horizonRefusalAdvice } from '../plan/planner.js';
import type { SubmittedExport } from '../ports/export-api.js';
import type { ExportRecord } from '../ports/export-record.js';
import type { AccountRunSettings, StreamConfig } from '../ports/run-settings.js';
import { again, done, type RetryPolicy, realSleep, sleepUnlessAborted, withRetry } from '../retry/retry.js';
import type { LifecycleDeps } from './drive-outcome.js';
import { appendToJournal, type JournalEntry } from './export-journal.js';

/** What requesting an export needs besides what driving one needs. */
export interface RequestDeps extends LifecycleDeps {
  readonly config: AccountRunSettings;
  /** Retries of the ledger write that records an accepted export (default `defaultLedgerRetry`). */
  readonly ledgerRetry?: RetryPolicy;
  /** A stopping sync's export requests in flight, waited for past its grace (`sync` gives it). */
  readonly requestsInFlight?: RequestsInFlight;
}

/** What became of one export request. */
export type RequestResult =
  | { kind: 'submitted'; record: ExportRecord }
  /** `vendorBlock`: the API's own refusal (now or earlier) blocks, not this side's count. */
  | { kind: 'quota'; error: QuotaExhaustedError; vendorBlock?: boolean }
  | { kind: 'busy' }
  /** The watermark the window was planned from went back (a `reset`): nothing was reserved or sent. */
  | { kind: 'moved'; note: string }
  /** The run is stopping (a signal): nothing was reserved or sent. */
  | { kind: 'stopped' }
  /**
   * `notSent`: the API could not be reached at all, or did not take the request (a 503 after the
   * retries), so nothing was spent and no other request is tried in this run. `cause`: the error.
   */
  | { kind: 'failed'; error: string; record?: ExportRecord; notSent?: boolean; cause?: unknown };

/**
 * The export requests in flight when a sync is stopped (SIGTERM, SIGINT; `sync` gives it): the
 * vendor may be creating the export, so the process waits for its answer even past the stop's
 * grace, and records it, rather than write the export off. `track` keeps the process until the
 * work it is given (a request, from its reservation to its answer made durable) has settled;
 * `graceOver` aborts when the grace has run out: an answer that arrives after it goes to the
 * local journal first (one fsync), where the next sync finds it, and then to the ledger once.
 */
export interface RequestsInFlight {
  readonly graceOver: AbortSignal;
  track<T>(work: Promise<T>): Promise<T>;
}

/** How long the ledger is given, past the stop's grace, to take an answer already in the journal. */
export const ledgerWritePastGraceMs = 2000;

/**
 * The retries of the ledger write that records the vendor's answer: a state store that drops
 * its connections for a few seconds must not lose an export the vendor made (about 15 s in all).
 */
export const defaultLedgerRetry: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 8000,
  maxRetryAfterMs: 8000,
};

/**
 * Gets a token, then reserves a quota slot and writes the ledger row (with the request body and
 * file name) before the request is sent, sends it, and records the vendor's answer.
 *
 * Quota is counted only for a request that may have reached the vendor: a token endpoint that is
 * down reserves nothing, and a request that provably never left (`RequestNotSentError`), that the
 * vendor did not take (`RequestNotTakenError`: 429 or 503 after the retries) or that it refused
 * (4xx) counts none; an unconfirmed one (502, 504, a socket error after sending) may have been
 * accepted and stays counted. A vendor quota refusal is recorded in the quota ledger, which
 * learns from it how much of the quota others use. The vendor's id is logged as soon as it
 * arrives and is written to the ledger with retries, or else to the local journal
 * (export-journal.ts) that the next sync applies. A stopping sync waits for a request in flight
 * (`deps.requestsInFlight`) even past its grace. `plannedFrom`: the watermark the incremental
 * window was planned from; a reset since makes it `moved`, with nothing reserved.
 */
export async function requestExport(
  deps: RequestDeps,
  stream: StreamConfig,
  window: Window,
  signal?: AbortSignal,
  plannedFrom?: Date,
): Promise<RequestResult> {
  const { client, log } = deps;
  if (signal?.aborted) return { kind: 'stopped' };
  try {
    await client.authorize?.();
  } catch (err) {
    const message = redact((err as Error).message);
    log.error('export not requested: no quota spent', { stream: stream.schema.name, error: message });
    return { kind: 'failed', error: `not requested, no quota spent: ${message}`, notSent: true };
  }
  if (signal?.aborted) return { kind: 'stopped' };
  const send = reserveAndSend(deps, stream, window, plannedFrom);
  return deps.requestsInFlight ? deps.requestsInFlight.track(send) : send;
}

/** `requestExport` once the token is had: reserve, send, record. */
async function reserveAndSend(
  deps: RequestDeps,
  stream: StreamConfig,
  window: Window,
  plannedFrom: Date | undefined,
): Promise<RequestResult> {
  const { state, clock, client, config, log } = deps;
  const prepared = client.buildRequest({
    apiPath: stream.apiPath,
    stream: stream.schema.name,
    window,
    timeZone: stream.timeZone,
    channels: stream.schema.accepts.channels ? stream.channels : undefined,
    filters: stream.filters,
  });
  const now = clock.now();
  const reservation = await state.quota.reserveExport(
    reserve(
      {
        account: config.accountKey,
        stream: stream.schema.name,
        apiPath: stream.apiPath,
        windowStart: window.start,
        windowEnd: window.end,
        timeZone: stream.timeZone,
        requestBody: prepared.requestBody,
        fileName: prepared.fileName,
      },
      now,
    ),
    config.quota,
    now,
    deps.owner,
    plannedFrom,
  );
  if (reservation.kind === 'moved')
    return {
      kind: 'moved',
      note: `not requested: the watermark was moved from ${reservation.planned.toISOString()} to ${reservation.watermark?.toISOString() ?? 'none'} (a reset) after this run planned; the next sync plans from it`,
    };
  if (reservation.kind === 'exhausted')
    return {
      kind: 'quota',
      error: reservation.error,
      ...(reservation.vendorBlock ? { vendorBlock: true } : {}),
    };
  if (reservation.kind === 'busy') return { kind: 'busy' };
  let record = reservation.record;
  log.info('requesting export', {
    stream: record.stream,
    ledgerId: record.ledgerId,
    start: window.start,
    end: window.end,
  });
  let submitted: SubmittedExport;
  try {
    submitted = await client.submit(prepared);
  } catch (err) {
    const now = clock.now();
    const advice =
      err instanceof HorizonError
        ? `; ${horizonRefusalAdvice(window, now, config.horizon, config.settingsPath)}`
        : '';
    const message = redact((err as Error).message) + advice;
    if (err instanceof QuotaExhaustedError) {
      // The vendor refused: nothing was created, so the slot is not ours; stop until one frees.
      await state.exports.write(
        record.ledgerId,
        requestFailed(record, { error: message, countsQuota: false, retryable: true }),
        now,
      );
      const { until, used, othersSeen } = await state.quota.recordVendorRefusal(
        config.accountKey,
        message,
        now,
        config.quota,
      );
      const stated = /limit is (\d+)/i.exec(message)?.[1];
      if (stated !== undefined && Number(stated) !== config.quota.perDay)
        log.warn(
          `the API says its limit is ${stated} exports per 24 hours; ${config.settingsPath}.exportsPer24h is ${config.quota.perDay}`,
        );
      log.warn('the API reports its export quota used up', {
        until,
        usedHere: used,
        othersUse: othersSeen?.slots ?? 0,
      });
      const others = othersSeen
        ? `; someone else (a person in the dashboard, another tool) holds ${othersSeen.slots} of the ${config.quota.perDay} exports per 24 h, so the connector leaves ${othersSeen.slots === 1 ? 'it' : 'them'} free until ${othersSeen.until.toISOString()} (${config.settingsPath}.reserveForOthers keeps exports free for good)`
        : '';
      return {
        kind: 'quota',
        vendorBlock: true,
        error: new QuotaExhaustedError(
          until,
          `${message}; nothing is requested before ${until.toISOString()}${others}`,
          { cause: err },
        ),
      };
    }
    // Never sent, or refused (4xx, credentials): nothing was created. An unconfirmed request
    // (5xx, a socket error after sending) may have been, and stays counted.
    const notSent = err instanceof RequestNotSentError;
    const notTaken = err instanceof RequestNotTakenError;
    const free =
      notSent ||
      notTaken ||
      err instanceof AuthError ||
      err instanceof HorizonError ||
      err instanceof ExportRefusedError;
    const error = notSent ? `${message}; the request was not sent, so no quota is counted` : message;
    // A failed request is nobody's work any more: `reset` and `exports` need not wait for it.
    record = await state.exports.write(
      record.ledgerId,
      requestFailed(record, {
        error,
        countsQuota: !free,
        retryable: isRetryable(err),
      }),
      now,
    );
    log.error('export request failed', {
      stream: record.stream,
      ledgerId: record.ledgerId,
      countsQuota: !free,
      error,
    });
    return { kind: 'failed', error, record, notSent: notSent || notTaken, cause: err };
  }
  const recorded = await recordSubmitted(deps, record, submitted);
  // The quota refusals in a row end (the next one waits the least); this never fails the request.
  await state.quota
    .recordAccepted(config.accountKey)
    .catch((e: unknown) =>
      log.warn('could not reset the quota refusals', { error: redact((e as Error).message) }),
    );
  return recorded;
}

/**
 * Records the vendor's answer: logged first (`export accepted by the API`: the id is in the log
 * whatever happens next), then the ledger write (`export submitted` once it is in), retried;
 * failing that, the answer goes to the local journal, fsynced. Past the stop's grace (or once it
 * runs out during the retries) the journal comes first: the process is about to exit and an
 * orchestrator may kill it at any moment (`RequestsInFlight`).
 */
async function recordSubmitted(
  deps: RequestDeps,
  reserved: ExportRecord,
  submitted: SubmittedExport,
): Promise<RequestResult> {
  const { state, clock, log } = deps;
  const fields = { stream: reserved.stream, ledgerId: reserved.ledgerId, vendorExportId: submitted.exportId };
  const submittedAt = clock.now();
  log.info('export accepted by the API', fields);
  const entry: JournalEntry = {
    account: reserved.account,
    stream: reserved.stream,
    ledgerId: reserved.ledgerId,
    vendorExportId: submitted.exportId,
    statusUrl: submitted.statusUrl,
    windowStart: reserved.windowStart.toISOString(),
    windowEnd: reserved.windowEnd.toISOString(),
    submittedAt: submittedAt.toISOString(),
  };
  const patch = submittedPatch(reserved, {
    vendorExportId: submitted.exportId,
    statusUrl: submitted.statusUrl,
    submittedAt,
  });
  const write = () => state.exports.write(reserved.ledgerId, patch, clock.now());
  const graceOver = deps.requestsInFlight?.graceOver;
  if (graceOver?.aborted) return recordPastGrace(deps, reserved, entry, write);
  const sleep = deps.sleep ?? realSleep;
  try {
    const record = await withRetry(
      deps.ledgerRetry ?? defaultLedgerRetry,
      async (attempt) => {
        try {
          return done(await write());
        } catch (err) {
          // The stop's grace is over: no more waiting on the ledger, the journal takes it now.
          if (graceOver?.aborted) throw err;
          return again(
            () => {
              throw err;
            },
            undefined,
            (waitMs) =>
              log.warn('the ledger did not take the export; retrying', {
                ...fields,
                attempt,
                waitMs,
                error: redact((err as Error).message),
              }),
          );
        }
      },
      { sleep: (ms) => sleepUnlessAborted(sleep, ms, graceOver) },
    );
    log.info('export submitted', fields);
    return { kind: 'submitted', record };
  } catch (err) {
    const reason = redact((err as Error).message);
    const journal = await appendToJournal(deps.archiveDir, entry);
    log.error('the ledger cannot record the export; kept in the local journal for the next sync', {
      ...fields,
      journal,
      error: reason,
    });
    return journaled(reserved, entry, journal, reason);
  }
}

/**
 * An answer that arrived after the stop's grace: into the journal (fsynced) at once, then one
 * ledger write of at most `ledgerWritePastGraceMs`. A journal that cannot be written leaves the
 * ledger write as the only record, which then throws if it fails.
 */
async function recordPastGrace(
  deps: RequestDeps,
  reserved: ExportRecord,
  entry: JournalEntry,
  write: () => Promise<ExportRecord>,
): Promise<RequestResult> {
  const { log } = deps;
  const fields = { stream: entry.stream, ledgerId: entry.ledgerId, vendorExportId: entry.vendorExportId };
  let journal: string | undefined;
  try {
    journal = await appendToJournal(deps.archiveDir, entry);
    log.warn('export answer arrived after the stop grace: kept in the local journal', { ...fields, journal });
  } catch (err) {
    log.error('the local journal cannot take the export; writing it to the ledger', {
      ...fields,
      error: redact((err as Error).message),
    });
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the ledger did not answer within ${ledgerWritePastGraceMs} ms`)),
      ledgerWritePastGraceMs,
    );
  });
  try {
    const record = await Promise.race([write(), timeout]);
    log.info('export submitted', fields);
    return { kind: 'submitted', record };
  } catch (err) {
    if (!journal) throw err;
    const reason = redact((err as Error).message);
    log.warn('the ledger did not take the export; the journal has it for the next sync', {
      ...fields,
      error: reason,
    });
    return journaled(reserved, entry, journal, reason);
  } finally {
    clearTimeout(timer);
  }
}

/** The result of an accepted export that only the local journal holds. */
function journaled(
  reserved: ExportRecord,
  entry: JournalEntry,
  journal: string,
  reason: string,
): RequestResult {
  return {
    kind: 'failed',
    error: `export ${entry.vendorExportId} was accepted by the API but the state store did not record it (${reason}); it is kept in ${journal} and the next sync resumes it`,
    record: reserved,
  };
}
