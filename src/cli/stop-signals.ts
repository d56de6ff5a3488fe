import { constants } from 'node:os';
import type { RequestsInFlight } from '../export/export-request.js';
import type { Logger } from '../log/logger.js';

/** How long a stopping sync waits for the work in flight before it exits anyway (75). */
export const stopGraceMs = 30_000;

/**
 * The grace, or the one `CXONE_OD_SYNC_TEST_STOP_GRACE_MS` sets (a test hook: a test stops a
 * sync and sees its grace run out without waiting 30 s; never set it in production).
 */
export function configuredStopGraceMs(env: NodeJS.ProcessEnv = process.env): number {
  const ms = Number(env.CXONE_OD_SYNC_TEST_STOP_GRACE_MS);
  return Number.isFinite(ms) && ms > 0 ? ms : stopGraceMs;
}

/** The first SIGTERM or SIGINT of a run, as the engine sees it. */
export interface StopSignals {
  /** Aborted by the first signal; its `reason` is `interrupted by SIGTERM` (or SIGINT). */
  readonly signal: AbortSignal;
  /** The export requests in flight: waited for, and recorded, even past the grace. */
  readonly requests: RequestsInFlight & {
    /** How many are in flight now. */
    readonly count: number;
    /** Settles once none is in flight (at once when none is). */
    settled(): Promise<void>;
  };
  /** Removes the handlers and the grace timer (the run is over). */
  dispose(): void;
}

/**
 * Turns SIGTERM and SIGINT into a graceful stop: the first aborts `signal` (the engine starts no
 * new request or export and records the answers of requests in flight) and, if the run has not
 * ended `graceMs` later, aborts `requests.graceOver` and calls `onGraceExpired`, which exits
 * once `requests.settled()` (an export request the vendor may be answering is never cut off:
 * its answer is recorded first). A second signal exits at once with 128 + its number (143 for
 * SIGTERM, 130 for SIGINT), as a shell reports a process killed by it.
 */
export function handleStopSignals(
  log: Logger,
  onGraceExpired: (reason: string) => void,
  graceMs = stopGraceMs,
): StopSignals {
  const controller = new AbortController();
  const grace = new AbortController();
  const inFlight = new Set<Promise<unknown>>();
  let timer: NodeJS.Timeout | undefined;
  const handler = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      log.error(`second ${sig}: exiting now; the next sync resumes from the ledger`);
      process.exit(128 + (constants.signals[sig] ?? 0));
    }
    const reason = `interrupted by ${sig}`;
    log.warn(`${sig} received: stopping; requests in flight are finished and recorded`, {
      graceSeconds: graceMs / 1000,
    });
    controller.abort(reason);
    timer = setTimeout(() => {
      grace.abort(reason);
      onGraceExpired(reason);
    }, graceMs);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return {
    signal: controller.signal,
    requests: {
      graceOver: grace.signal,
      get count() {
        return inFlight.size;
      },
      track<T>(work: Promise<T>): Promise<T> {
        inFlight.add(work);
        const forget = () => inFlight.delete(work);
        work.then(forget, forget);
        return work;
      },
      async settled() {
        while (inFlight.size) await Promise.allSettled([...inFlight]);
      },
    },
    dispose() {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
      clearTimeout(timer);
    },
  };
}
