import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { StreamConfig } from '../config/load-config.js';
import {
  ApiError,
  CsvFormatError,
  DownloadError,
  DownloadRefusedError,
  DownloadUrlExpiredError,
  ExportFailedError,
  isSyncError,
  SchemaError,
} from '../errors.js';
import { type Logger, memoryFields } from '../log/logger.js';
import { redact } from '../log/redact.js';
import { pollUntil } from '../retry/poll.js';
import type { StateStore } from '../state/state-store.js';
import type { ExportRow } from '../state/state-tables.js';
import type { Clock } from './clock.js';
import type { Destination } from './destination.js';
import type { ExportApi, VendorExportStatus } from './export-api.js';
import { loadWindowFile, type WindowLoadResult } from './window-loader.js';

export interface LifecycleDeps {
  readonly state: StateStore;
  readonly client: ExportApi;
  readonly destination: Destination;
  readonly clock: Clock;
  readonly log: Logger;
  readonly owner: string;
  readonly archiveDir: string;
  readonly poll: { intervalMs: number; maxIntervalMs: number; budgetMs: number };
}

export type DriveOutcome =
  | { kind: 'loaded'; exportRow: ExportRow; load: WindowLoadResult }
  | { kind: 'in_flight'; exportRow: ExportRow; reason: string }
  /** An export abandoned without a result (its reservation was interrupted): the window is due again. */
  | { kind: 'abandoned'; exportRow: ExportRow; reason: string }
  | { kind: 'failed'; exportRow: ExportRow; error: Error; retryable: boolean };

/** How long after submission a 404 from the status endpoint counts as "not visible yet". */
const statusGraceMs = 120_000;

/** Download attempts of one export (a cut-off or malformed body is fetched again, via the status). */
const maxDownloadAttempts = 6;

export function archivePath(archiveDir: string, row: ExportRow): string {
  return resolve(join(archiveDir, row.stream, `${row.id}-${row.file_name}.csv`));
}

/**
 * Drives one export through its persisted lifecycle (SPEC section 3): submitted, then ready,
 * downloaded and loaded, writing each step to the ledger before the next side effect, so that
 * a crash at any point resumes where it stopped and never costs a second export.
 */
export async function driveExport(
  row: ExportRow,
  stream: StreamConfig,
  deps: LifecycleDeps,
): Promise<DriveOutcome> {
  const { state, clock, log: baseLog } = deps;
  const log = baseLog.child({ stream: row.stream, export: row.id });
  let current = row;
  const heartbeat = setInterval(() => {
    state.exports.renewClaim(current.id, deps.owner, clock.now()).catch(() => {});
  }, 60_000);
  heartbeat.unref();
  try {
    if (current.status === 'reserved') {
      // The process that reserved it died before recording the vendor's answer: the request may
      // have been spent. It stays counted; the window is free to be planned again.
      current = await state.exports.update(
        current.id,
        {
          status: 'failed',
          error: 'interrupted before the export request was confirmed; the window will be requested again',
          retryable: true,
        },
        clock.now(),
      );
      return { kind: 'abandoned', exportRow: current, reason: current.error! };
    }
    while (current.status === 'submitted' || current.status === 'ready') {
      if (current.attempts >= maxDownloadAttempts) {
        const error = new DownloadRefusedError(
          `download failed ${current.attempts} times: ${current.error ?? ''}`,
        );
        current = await state.exports.update(
          current.id,
          { status: 'failed', error: error.message, retryable: true },
          clock.now(),
        );
        return { kind: 'failed', exportRow: current, error, retryable: true };
      }
      const ready = await pollUntilReady(current, deps, log);
      if (ready.kind !== 'ready') return ready.outcome;
      current = ready.row;
      const dest = archivePath(deps.archiveDir, current);
      try {
        await mkdir(join(deps.archiveDir, current.stream), { recursive: true });
        log.info('downloading', memoryFields());
        let lastProgress = Date.now();
        const dl = await deps.client.download(ready.url, dest, (bytes) => {
          if (Date.now() - lastProgress >= 2000) {
            lastProgress = Date.now();
            log.info('download progress', { bytes, ...memoryFields() });
          }
        });
        current = await state.exports.update(
          current.id,
          {
            status: 'downloaded',
            archive_path: dest,
            bytes: dl.bytes,
            sha256: dl.sha256,
            downloaded_at: clock.now(),
            error: null,
          },
          clock.now(),
        );
        log.info('downloaded', { bytes: dl.bytes, sha256: dl.sha256, ...memoryFields() });
      } catch (err) {
        if (!(err instanceof DownloadError) || !err.retryable) {
          if (err instanceof DownloadError) {
            current = await state.exports.update(
              current.id,
              { status: 'failed', error: redact(err.message), retryable: false },
              clock.now(),
            );
            return { kind: 'failed', exportRow: current, error: err, retryable: false };
          }
          throw err;
        }
        log.warn(
          err instanceof DownloadUrlExpiredError
            ? 'download URL expired; asking the status for a fresh one'
            : 'download failed; fetching it again',
          {
            error: err.message,
          },
        );
        current = await state.exports.update(
          current.id,
          {
            status: 'submitted',
            attempts: current.attempts + 1,
            error: redact(err.message),
          },
          clock.now(),
        );
      }
    }
    if (current.status === 'downloaded') return await loadDownloaded(current, stream, deps, log);
    return {
      kind: 'failed',
      exportRow: current,
      error: new Error(`export ${current.id} is ${current.status}`),
      retryable: false,
    };
  } finally {
    clearInterval(heartbeat);
  }
}

type PollOutcome = { kind: 'ready'; row: ExportRow; url: string } | { kind: 'stop'; outcome: DriveOutcome };

/** Polls the export's status, growing the interval by half up to `poll.maxIntervalMs`, within `poll.budgetMs`. */
async function pollUntilReady(
  row: ExportRow,
  deps: LifecycleDeps,
  log: ReturnType<Logger['child']>,
): Promise<PollOutcome> {
  const { state, clock, client } = deps;
  return pollUntil<PollOutcome, VendorExportStatus>(
    { ...deps.poll, factor: 1.5 },
    async (poll) => {
      if (poll > 1) await state.exports.renewClaim(row.id, deps.owner, clock.now());
      let status: VendorExportStatus;
      try {
        status = await client.getStatus(row.status_url!);
      } catch (err) {
        // A status endpoint that does not know a just-created export yet (eventual consistency)
        // is still processing, for a while; after that the 404 stands.
        const fresh = clock.now().getTime() - (row.submitted_at ?? row.reserved_at).getTime() < statusGraceMs;
        if (!(err instanceof ApiError && err.status === 404 && fresh)) throw err;
        status = { state: 'pending', vendorStatus: 'not found yet (HTTP 404)' };
      }
      if (status.state === 'done') {
        const host = safeHost(status.downloadUrl!);
        const updated = await state.exports.update(
          row.id,
          { status: 'ready', ready_at: clock.now(), download_host: host },
          clock.now(),
        );
        return { kind: 'done', value: { kind: 'ready', row: updated, url: status.downloadUrl! } };
      }
      if (status.state === 'failed') {
        const message = `the API reports the export ${status.vendorStatus}${status.message ? `: ${redact(status.message)}` : ''}`;
        const updated = await state.exports.update(
          row.id,
          { status: 'failed', error: message, retryable: true },
          clock.now(),
        );
        const outcome: DriveOutcome = {
          kind: 'failed',
          exportRow: updated,
          error: new ExportFailedError(message),
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
        outcome: { kind: 'in_flight', exportRow: row, reason: `still ${status.vendorStatus} at the API` },
      };
    },
    {
      beforeWait: (status, waitMs, poll) => {
        if (poll === 1)
          log.info('export processing at the API; polling', { vendorStatus: status.vendorStatus });
        log.debug('export not ready', { vendorStatus: status.vendorStatus, nextPollMs: waitMs });
      },
    },
  );
}

function safeHost(url: string): string | null {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}

/** Loads an archived file. A malformed file is a bad download: discarded and fetched again. */
export async function loadDownloaded(
  row: ExportRow,
  stream: StreamConfig,
  deps: LifecycleDeps,
  log: ReturnType<Logger['child']>,
  options: { refetchMalformed: boolean } = { refetchMalformed: true },
): Promise<DriveOutcome> {
  const { state, clock } = deps;
  try {
    log.info('loading', { file: row.archive_path, bytes: row.bytes === null ? null : Number(row.bytes) });
    const load = await loadWindowFile(
      {
        file: row.archive_path!,
        schema: stream.schema,
        exportRow: row,
        window: { start: row.window_start, end: row.window_end },
        timeZone: row.time_zone,
        drift: stream.schemaDrift,
        maxRejectedRatio: stream.maxRejectedRatio,
        loadedAt: clock.now(),
      },
      deps.destination,
      state,
      log,
    );
    const loaded = (await state.exports.get(row.id))!;
    log.info('loaded', {
      rows: load.rows,
      rejected: load.rejected,
      replaced: load.replaced,
      ...memoryFields(),
    });
    return { kind: 'loaded', exportRow: loaded, load };
  } catch (err) {
    if (err instanceof CsvFormatError && row.vendor_export_id && options.refetchMalformed) {
      log.warn('downloaded file is malformed; fetching it again', { error: err.message });
      await rm(row.archive_path!, { force: true });
      const again = await state.exports.update(
        row.id,
        { status: 'submitted', archive_path: null, attempts: row.attempts + 1, error: redact(err.message) },
        clock.now(),
      );
      return driveExport(again, stream, deps);
    }
    const retryable = isSyncError(err) ? err.retryable && !(err instanceof SchemaError) : true;
    const message = redact((err as Error).message);
    if (err instanceof SchemaError || err instanceof CsvFormatError) {
      // The file is kept: fix the schema (or the file) and `replay --export ID`.
      const failed = await state.exports.update(
        row.id,
        { status: 'failed', error: message, retryable: false },
        clock.now(),
      );
      return { kind: 'failed', exportRow: failed, error: err as Error, retryable: false };
    }
    // The destination or state store failed: the file stays downloaded, a rerun loads it.
    await state.exports.update(row.id, { error: message }, clock.now()).catch(() => {});
    return { kind: 'failed', exportRow: row, error: err as Error, retryable };
  }
}

export type ReloadResult = { ok: true; rows: number; rejected: number } | { ok: false; error: string };

/**
 * Loads an export's archived file again, calling no API (`replay`, `load-file`): a malformed
 * file fails instead of being fetched again. The caller holds the claim; it is released here.
 */
export async function reloadArchived(
  row: ExportRow,
  stream: StreamConfig,
  deps: LifecycleDeps,
): Promise<ReloadResult> {
  try {
    const outcome = await loadDownloaded(
      row,
      stream,
      deps,
      deps.log.child({ stream: row.stream, export: row.id }),
      {
        refetchMalformed: false,
      },
    );
    if (outcome.kind === 'loaded')
      return { ok: true, rows: outcome.load.rows, rejected: outcome.load.rejected };
    return { ok: false, error: outcome.kind === 'failed' ? outcome.error.message : outcome.kind };
  } finally {
    await deps.state.exports.release(row.id, deps.owner);
  }
}

/** Deletes archived files of exports loaded more than `keepDays` ago (`archive.keepDays`). */
export async function pruneArchive(
  state: StateStore,
  account: string,
  keepDays: number,
  now: Date,
): Promise<number> {
  const cutoff = new Date(now.getTime() - keepDays * 86_400_000);
  const old = await state.exports.archivedLoadedBefore(account, cutoff);
  for (const e of old) {
    await rm(e.archive_path!, { force: true });
    await state.exports.update(e.id, { archive_path: null }, now);
  }
  return old.length;
}
