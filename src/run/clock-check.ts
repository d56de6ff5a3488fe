import { AuthError, ClockSkewError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { ExportApi } from '../ports/export-api.js';

/** How far the local clock may be from the vendor's (its `Date` header, to the second) before a sync refuses to plan. */
export const maxClockSkewMs = 5 * 60_000;

/**
 * Refuses to go on with a plan made by a local clock more than `maxClockSkewMs` away from the
 * vendor's: a clock days fast would move the watermark into the future and the data in between
 * would never be requested, with no gap recorded. The sync runner calls it once it has planned
 * something, before it records a gap or reserves quota; it needs at most a token. A vendor that
 * sends no `Date` header is not checked (a warning says so). When no reading can be had (the
 * token endpoint is down) it returns false: the caller then records nothing that depends on
 * the clock, and no request can be sent without a token anyway. Refused credentials
 * (`AuthError`) are thrown: nothing can be requested until the operator fixes them.
 */
export async function assertClockAgrees(api: ExportApi, log: Logger, now: Date): Promise<boolean> {
  let reading: Awaited<ReturnType<ExportApi['serverClock']>>;
  try {
    reading = await api.serverClock();
  } catch (err) {
    // Refused credentials are the operator's to fix (exit 2), not an outage to ride out.
    if (err instanceof AuthError) throw err;
    log.warn('cannot read the vendor clock; nothing that depends on it is recorded this run', {
      error: (err as Error).message,
    });
    return false;
  }
  if (!reading) {
    log.warn('the API sent no Date header: the local clock is not checked against the vendor');
    return true;
  }
  // The reading's local time is the engine's clock (injected) when the answer arrived: the
  // clock that plans. The vendor's time now is its Date header plus the time since then.
  const skewMs = reading.localTime.getTime() - reading.serverTime.getTime();
  const localTime = now;
  const vendorNow = now.getTime() - skewMs;
  if (Math.abs(skewMs) <= maxClockSkewMs) return true;
  const minutes = Math.round(Math.abs(skewMs) / 60_000);
  throw new ClockSkewError(
    `the local clock (${localTime.toISOString()}) is ${minutes} minutes ${skewMs > 0 ? 'ahead of' : 'behind'} the vendor's (Date header ${new Date(Math.floor(vendorNow / 1000) * 1000).toISOString()}), more than ${maxClockSkewMs / 60_000} allowed; nothing was planned or requested. Fix the host's time (NTP) and run again`,
  );
}
