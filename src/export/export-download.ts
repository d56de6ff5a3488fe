import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  DownloadError,
  DownloadHostRefusedError,
  DownloadUrlExpiredError,
  LocalStorageError,
  localStorageCode,
} from '../errors.js';
import { fail, keepWithError, recordDownload, requeueDownload } from '../ledger/export-transitions.js';
import { type Logger, memoryFields } from '../log/logger.js';
import { redact } from '../log/redact.js';
import type { ExportRecord } from '../ports/export-record.js';
import type { DriveOutcome, LifecycleDeps } from './drive-outcome.js';

/** Where an export's raw file is archived: `<archive.dir>/<stream>/<ledger id>-<file name>.csv`. */
export function archivePath(
  archiveDir: string,
  record: Pick<ExportRecord, 'stream' | 'ledgerId' | 'fileName'>,
): string {
  return resolve(join(archiveDir, record.stream, `${record.ledgerId}-${record.fileName}.csv`));
}

/** Where one download ended: the file archived, fetch it again (via the status), or stop the drive. */
export type DownloadStep =
  | { kind: 'downloaded'; record: ExportRecord }
  | { kind: 'again'; record: ExportRecord }
  | { kind: 'stop'; outcome: DriveOutcome };

/**
 * Downloads a ready export into the archive and records it `downloaded`. A cut-off or expired
 * download is fetched again through the status (one attempt spent). A problem of this side (the
 * archive's disk, permissions, a path; or the download host policy) never writes the export off:
 * the row keeps its status with the error, no attempt is spent, and the stream's run fails with
 * the fix; the next sync downloads it again through the status endpoint, with no new request.
 */
export async function downloadReady(
  current: ExportRecord,
  url: string,
  deps: LifecycleDeps,
  log: ReturnType<Logger['child']>,
): Promise<DownloadStep> {
  const { state, clock } = deps;
  const dest = archivePath(deps.archiveDir, current);
  try {
    await mkdir(join(deps.archiveDir, current.stream), { recursive: true });
    log.info('downloading', memoryFields());
    let lastProgress = Date.now();
    const dl = await deps.client.download(url, dest, (bytes) => {
      if (Date.now() - lastProgress >= 2000) {
        lastProgress = Date.now();
        log.info('download progress', { bytes, ...memoryFields() });
      }
    });
    const now = clock.now();
    const record = await state.exports.write(
      current.ledgerId,
      recordDownload(current, { archivePath: dest, bytes: dl.bytes, sha256: dl.sha256 }, now),
      now,
    );
    log.info('downloaded', { bytes: dl.bytes, sha256: dl.sha256, ...memoryFields() });
    return { kind: 'downloaded', record };
  } catch (err) {
    const kept = `Export ${current.ledgerId} (vendor export ${current.vendorExportId ?? '-'}) is kept: the next sync downloads it again through the status endpoint, with no new export request`;
    const code = localStorageCode(err);
    if (code !== undefined || err instanceof DownloadHostRefusedError) {
      const error =
        code !== undefined
          ? new LocalStorageError(
              `cannot write the download to archive.dir ${resolve(deps.archiveDir)} (${code}: ${redact((err as Error).message)}); ${LocalStorageError.advice(code)}. ${kept}`,
              code,
              { cause: err },
            )
          : new DownloadHostRefusedError(`${(err as Error).message}. ${kept}`, { cause: err });
      const record = await state.exports.write(current.ledgerId, keepWithError(error.message), clock.now());
      log.error('download failed on this side; the export is kept', { error: error.message });
      return { kind: 'stop', outcome: { kind: 'failed', record, error, retryable: true } };
    }
    if (!(err instanceof DownloadError)) throw err;
    if (!err.retryable) {
      const record = await state.exports.write(
        current.ledgerId,
        fail(current, redact(err.message)),
        clock.now(),
      );
      return { kind: 'stop', outcome: { kind: 'failed', record, error: err, retryable: false } };
    }
    log.warn(
      err instanceof DownloadUrlExpiredError
        ? 'download URL expired; asking the status for a fresh one'
        : 'download failed; fetching it again',
      { error: err.message },
    );
    const record = await state.exports.write(
      current.ledgerId,
      requeueDownload(current, redact(err.message), { attemptSpent: true, dropFile: false }),
      clock.now(),
    );
    return { kind: 'again', record };
  }
}
