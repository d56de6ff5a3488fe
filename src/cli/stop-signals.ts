import { constants } from 'node:os';
import type { Logger } from '../log/logger.js';

/** How long a stopping sync waits for the work in flight before it exits anyway (75). */
export const stopGraceMs = 30_000;

/** The first SIGTERM or SIGINT of a run, as the engine sees it. */
export interface StopSignals {
  /** Aborted by the first signal; its `reason` is `interrupted by SIGTERM` (or SIGINT). */
  readonly signal: AbortSignal;
  /** Removes the handlers and the grace timer (the run is over). */
  dispose(): void;
}

/**
 * Turns SIGTERM and SIGINT into a graceful stop: the first aborts `signal` (the engine starts no
 * new request or export and records the answers of requests in flight) and, if the run has not
 * ended `graceMs` later, calls `onGraceExpired`. A second signal exits at once with 128 + its
 * number (143 for SIGTERM, 130 for SIGINT), as a shell reports a process killed by it.
 */
export function handleStopSignals(
  log: Logger,
  onGraceExpired: (reason: string) => void,
  graceMs = stopGraceMs,
): StopSignals {
  const controller = new AbortController();
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
    timer = setTimeout(() => onGraceExpired(reason), graceMs);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
      clearTimeout(timer);
    },
  };
}
