import { DownloadRefusedError } from '../errors.js';
import { abandonUnconfirmed, backOff } from '../ledger/export-transitions.js';
import type { ExportRecord } from '../ports/export-record.js';
import type { StreamConfig } from '../ports/run-settings.js';
import type { DriveOutcome, LifecycleDeps } from './drive-outcome.js';
import { downloadReady } from './export-download.js';
import { loadDownloaded } from './export-load.js';
import { pollUntilReady } from './export-poll.js';

export type { DriveOutcome, LifecycleDeps } from './drive-outcome.js';
export { archivePath } from './export-download.js';
export { type ReloadResult, reloadArchived } from './export-load.js';

/** Download attempts of one export (a cut-off or malformed body is fetched again, via the status). */
const maxDownloadAttempts = 6;

/**
 * Drives one export through its persisted life: submitted, then ready, downloaded and loaded,
 * writing each transition to the ledger before the next side effect, so that a crash at any
 * point resumes where it stopped and never costs a second export. A loop over the record's
 * status: a download cut off, a malformed file or a lost archive puts the export back to
 * `submitted` (`requeueDownload`), and the loop fetches it again through the status endpoint.
 */
export async function driveExport(
  record: ExportRecord,
  stream: StreamConfig,
  deps: LifecycleDeps,
): Promise<DriveOutcome> {
  const { state, clock } = deps;
  const log = deps.log.child({ stream: record.stream, ledgerId: record.ledgerId });
  let current = record;
  // A file this drive has just written and hashed needs no second reading.
  let justDownloaded = false;
  const heartbeat = setInterval(() => {
    state.exports.renewClaim(current.ledgerId, deps.owner, clock.now()).catch(() => {});
  }, 60_000);
  heartbeat.unref();
  try {
    for (;;) {
      switch (current.status) {
        case 'reserved': {
          // The process that reserved it died before recording the vendor's answer.
          current = await state.exports.write(current.ledgerId, abandonUnconfirmed(current), clock.now());
          return { kind: 'abandoned', record: current, reason: current.error! };
        }
        case 'submitted':
        case 'ready': {
          if (current.attempts >= maxDownloadAttempts) {
            // The vendor made this export: it is kept, backed off, and tried again later (or
            // given up by an operator), never written off so that its window is requested again.
            const error = new DownloadRefusedError(
              `download failed ${current.attempts} times: ${current.error ?? ''}; the export is kept and downloaded again after a backoff (\`exports abandon ${current.ledgerId} --reason TEXT\` requests its window again)`,
            );
            const now = clock.now();
            current = await state.exports.write(
              current.ledgerId,
              backOff(current, error.message, now, { stuck: true, resetAttempts: true }),
              now,
            );
            return { kind: 'failed', record: current, error, retryable: true };
          }
          const ready = await pollUntilReady(current, deps, log);
          if (ready.kind !== 'ready') return ready.outcome;
          const step = await downloadReady(ready.record, ready.url, deps, log);
          if (step.kind === 'stop') return step.outcome;
          current = step.record;
          justDownloaded = step.kind === 'downloaded';
          break;
        }
        case 'downloaded': {
          const step = await loadDownloaded(current, stream, deps, log, {
            refetch: true,
            verify: !justDownloaded,
          });
          if (step.kind !== 'requeued') return step;
          current = step.record;
          justDownloaded = false;
          break;
        }
        default:
          return {
            kind: 'failed',
            record: current,
            error: new Error(`export ${current.ledgerId} is ${current.status}`),
            retryable: false,
          };
      }
    }
  } finally {
    clearInterval(heartbeat);
  }
}
