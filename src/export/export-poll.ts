import { ExportFailedError, ExportNotFoundError, VendorExportFailedError } from '../errors.js';
import { backOff, markReady, vendorFailed } from '../ledger/export-transitions.js';
import { redact } from '../log/redact.js';
import type { VendorExportStatus } from '../ports/export-api.js';
import type { ExportRecord } from '../ports/export-record.js';
import { pollUntil } from '../retry/poll.js';
import type { DriveOutcome, ExportLog, LifecycleDeps } from './drive-outcome.js';

/** How long after submission a 404 from the status endpoint counts as "not visible yet". */
const statusGraceMs = 120_000;

export type PollOutcome =
  | { kind: 'ready'; record: ExportRecord; url: string }
  | { kind: 'stop'; outcome: DriveOutcome };

/** Polls the export's status, growing the interval by half up to `poll.maxIntervalMs`, within `poll.budgetMs`. */
export async function pollUntilReady(
  record: ExportRecord,
  deps: LifecycleDeps,
  log: ExportLog,
): Promise<PollOutcome> {
  const { state, clock, client } = deps;
  return pollUntil<PollOutcome, VendorExportStatus>(
    { ...deps.poll, factor: 1.5 },
    async (poll) => {
      if (poll > 1) await state.exports.renewClaim(record.ledgerId, deps.owner, clock.now());
      let status: VendorExportStatus;
      try {
        status = await client.getStatus(record.statusUrl!);
      } catch (err) {
        // A status endpoint that does not know a just-created export yet (eventual consistency)
        // is still processing, for a while; after that the 404 stands.
        const age = clock.now().getTime() - (record.submittedAt ?? record.reservedAt).getTime();
        if (!(err instanceof ExportNotFoundError)) throw err;
        if (age >= statusGraceMs)
          return { kind: 'done', value: { kind: 'stop', outcome: await forgotten(record, age, deps) } };
        status = { state: 'pending', vendorStatus: 'not found yet (HTTP 404)' };
      }
      if (status.state === 'done') {
        const now = clock.now();
        const updated = await state.exports.write(
          record.ledgerId,
          markReady(record, safeHost(status.downloadUrl!), now),
          now,
        );
        return { kind: 'done', value: { kind: 'ready', record: updated, url: status.downloadUrl! } };
      }
      if (status.state === 'failed') {
        const message = `the API reports the export ${status.vendorStatus}${status.message ? `: ${redact(status.message)}` : ''}`;
        const updated = await state.exports.write(
          record.ledgerId,
          vendorFailed(record, message),
          clock.now(),
        );
        const outcome: DriveOutcome = {
          kind: 'failed',
          record: updated,
          error: new VendorExportFailedError(message),
          retryable: true,
        };
        return { kind: 'done', value: { kind: 'stop', outcome } };
      }
      return { kind: 'pending', pending: status };
    },
    (status) => {
      log.info('export still processing; it stays in flight', { vendorStatus: status.vendorStatus });
      return {
        kind: 'stop',
        outcome: { kind: 'in_flight', record, reason: `still ${status.vendorStatus} at the API` },
      };
    },
    {
      // SIGTERM: the export stays in flight (resumable), the run ends without waiting it out.
      signal: deps.signal,
      // The injected clock and its waits: the budget is counted in the time the run lives in.
      now: () => clock.now().getTime(),
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
      beforeWait: (status, waitMs, poll) => {
        if (poll === 1)
          log.info('export processing at the API; polling', { vendorStatus: status.vendorStatus });
        log.debug('export not ready', { vendorStatus: status.vendorStatus, nextPollMs: waitMs });
      },
    },
  );
}

/**
 * The status endpoint answers 404 past the grace period: the vendor no longer knows the export.
 * Retrying at every sync will not bring it back, so the record gets a backoff at once and the
 * error names the way out; it is not written off on our own (the operator decides, it cost a slot).
 */
async function forgotten(record: ExportRecord, ageMs: number, deps: LifecycleDeps): Promise<DriveOutcome> {
  const message = `the API no longer knows export ${record.vendorExportId ?? record.ledgerId} (HTTP 404 from its status endpoint ${Math.round(ageMs / 60_000)} min after the request); \`exports abandon ${record.ledgerId} --reason TEXT\` to request the window again`;
  const now = deps.clock.now();
  const updated = await deps.state.exports.write(
    record.ledgerId,
    backOff(record, message, now, { stuck: true }),
    now,
  );
  deps.log.error('the API no longer knows the export', { stream: record.stream, ledgerId: record.ledgerId });
  return { kind: 'failed', record: updated, error: new ExportFailedError(message), retryable: false };
}

function safeHost(url: string): string | null {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}
