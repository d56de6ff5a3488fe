import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  DownloadError,
  DownloadHostRefusedError,
  DownloadUrlExpiredError,
  LocalStorageError,
  localStorageCode,
} from '../errors.js';
import { type Logger, memoryFields } from '../log/logger.js';
import { redact } from '../log/redact.js';
import type { ExportRow } from '../state/state-tables.js';
import { clearedFailures } from './export-backoff.js';
import type { DriveOutcome, LifecycleDeps } from './export-lifecycle.js';

/** Where an export's raw file is archived: `<archive.dir>/<stream>/<ledger id>-<file name>.csv`. */
export function archivePath(archiveDir: string, row: ExportRow): string {
  return resolve(join(archiveDir, row.stream, `${row.id}-${row.file_name}.csv`));
}

/** Where one download ended: the file archived, fetch it again (via the status), or stop the drive. */
export type DownloadStep =
  | { kind: 'downloaded'; row: ExportRow }
  | { kind: 'again'; row: ExportRow }
  | { kind: 'stop'; outcome: DriveOutcome };

/**
 * Downloads a ready export into the archive and records it `downloaded`. A cut-off or expired
 * download is fetched again through the status (one attempt spent). A problem of this side (the
 * archive's disk, permissions, a path; or the download host policy) never writes the export off:
 * the row keeps its status with the error, no attempt is spent, and the stream's run fails with
 * the fix; the next sync downloads it again through the status endpoint, with no new request.
 */
export async function downloadReady(
  current: ExportRow,
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
    const row = await state.exports.update(
      current.id,
      {
        status: 'downloaded',
        archive_path: dest,
        bytes: dl.bytes,
        sha256: dl.sha256,
        downloaded_at: clock.now(),
        error: null,
        ...clearedFailures,
      },
      clock.now(),
    );
    log.info('downloaded', { bytes: dl.bytes, sha256: dl.sha256, ...memoryFields() });
    return { kind: 'downloaded', row };
  } catch (err) {
    const kept = `Export ${current.id} (vendor export ${current.vendor_export_id ?? '-'}) is kept: the next sync downloads it again through the status endpoint, with no new export request`;
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
      const row = await state.exports.update(current.id, { error: error.message }, clock.now());
      log.error('download failed on this side; the export is kept', { error: error.message });
      return { kind: 'stop', outcome: { kind: 'failed', exportRow: row, error, retryable: true } };
    }
    if (!(err instanceof DownloadError)) throw err;
    if (!err.retryable) {
      const row = await state.exports.update(
        current.id,
        { status: 'failed', error: redact(err.message), retryable: false },
        clock.now(),
      );
      return { kind: 'stop', outcome: { kind: 'failed', exportRow: row, error: err, retryable: false } };
    }
    log.warn(
      err instanceof DownloadUrlExpiredError
        ? 'download URL expired; asking the status for a fresh one'
        : 'download failed; fetching it again',
      { error: err.message },
    );
    const row = await state.exports.update(
      current.id,
      { status: 'submitted', attempts: current.attempts + 1, error: redact(err.message) },
      clock.now(),
    );
    return { kind: 'again', row };
  }
}
