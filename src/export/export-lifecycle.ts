import { rm } from 'node:fs/promises';
import type { StreamConfig } from '../config/load-config.js';
import {
  ArchiveFileError,
  CsvFormatError,
  DownloadRefusedError,
  ExportFailedError,
  ExportNotFoundError,
  isSyncError,
  SchemaError,
  VendorExportFailedError,
} from '../errors.js';
import { loadWindowFile, type WindowLoadResult } from '../load/window-loader.js';
import { type Logger, memoryFields } from '../log/logger.js';
import { redact } from '../log/redact.js';
import { type HorizonRule, horizon } from '../plan/planner.js';
import type { Clock } from '../ports/clock.js';
import type { Destination } from '../ports/destination.js';
import type { ExportApi, VendorExportStatus } from '../ports/export-api.js';
import { type LoadObserver, startLoadRun } from '../ports/lineage.js';
import { pollUntil } from '../retry/poll.js';
import type { StateStore } from '../state/state-store.js';
import type { ExportRow } from '../state/state-tables.js';
import { archivedFileProblem } from './archive-check.js';
import { failurePatch } from './export-backoff.js';
import { downloadReady } from './export-download.js';

export interface LifecycleDeps {
  readonly state: StateStore;
  readonly client: ExportApi;
  readonly destination: Destination;
  readonly clock: Clock;
  readonly log: Logger;
  readonly owner: string;
  readonly archiveDir: string;
  readonly poll: { intervalMs: number; maxIntervalMs: number; budgetMs: number };
  /** Aborted on SIGTERM/SIGINT: a poll stops waiting (the export stays in flight, resumable). */
  readonly signal?: AbortSignal | undefined;
  /** The config's key when it has one account: a table's rows from before `_account` are its. */
  readonly soleAccount?: string | undefined;
  /** Told of every load (lineage); never fails or slows one. */
  readonly lineage?: LoadObserver | undefined;
  /** Test hook: a load stops once this many rows are with the destination, until the process is killed. */
  readonly pauseLoadAfterRows?: number | undefined;
  /** The account's 4-month rule: where a stream with no watermark and no `start` begins. */
  readonly horizon: HorizonRule;
}

export { archivePath } from './export-download.js';

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
  let justDownloaded = false;
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
        // The vendor made this export: it is kept, backed off, and tried again later (or given
        // up by an operator), never written off so that its window is requested again.
        const error = new DownloadRefusedError(
          `download failed ${current.attempts} times: ${current.error ?? ''}; the export is kept and downloaded again after a backoff (\`exports abandon ${current.id} --reason TEXT\` requests its window again)`,
        );
        const now = clock.now();
        current = await state.exports.update(
          current.id,
          { ...failurePatch(current, error.message, now, { stuck: true }), attempts: 0 },
          now,
        );
        return { kind: 'failed', exportRow: current, error, retryable: true };
      }
      const ready = await pollUntilReady(current, deps, log);
      if (ready.kind !== 'ready') return ready.outcome;
      const step = await downloadReady(ready.row, ready.url, deps, log);
      if (step.kind === 'stop') return step.outcome;
      current = step.row;
      justDownloaded = step.kind === 'downloaded';
    }
    if (current.status === 'downloaded')
      // A file this drive has just written and hashed needs no second reading.
      return await loadDownloaded(current, stream, deps, log, {
        refetchMalformed: true,
        verify: !justDownloaded,
      });
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
        const age = clock.now().getTime() - (row.submitted_at ?? row.reserved_at).getTime();
        if (!(err instanceof ExportNotFoundError)) throw err;
        if (age >= statusGraceMs)
          return { kind: 'done', value: { kind: 'stop', outcome: await forgotten(row, age, deps) } };
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
        outcome: { kind: 'in_flight', exportRow: row, reason: `still ${status.vendorStatus} at the API` },
      };
    },
    {
      // SIGTERM: the export stays in flight (resumable), the run ends without waiting it out.
      signal: deps.signal,
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
 * Retrying at every sync will not bring it back, so the row gets a backoff at once and the error
 * names the way out; it is not written off on our own (the operator decides, it cost a slot).
 */
async function forgotten(row: ExportRow, ageMs: number, deps: LifecycleDeps): Promise<DriveOutcome> {
  const message = `the API no longer knows export ${row.vendor_export_id ?? row.id} (HTTP 404 from its status endpoint ${Math.round(ageMs / 60_000)} min after the request); \`exports abandon ${row.id} --reason TEXT\` to request the window again`;
  const now = deps.clock.now();
  const updated = await deps.state.exports.update(
    row.id,
    failurePatch(row, message, now, { stuck: true }),
    now,
  );
  deps.log.error('the API no longer knows the export', { stream: row.stream, export: row.id });
  return { kind: 'failed', exportRow: updated, error: new ExportFailedError(message), retryable: false };
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
  options: { refetchMalformed: boolean; verify?: boolean } = { refetchMalformed: true },
): Promise<DriveOutcome> {
  const { state, clock } = deps;
  const problem = options.verify === false ? null : await archivedFileProblem(row);
  if (problem) return archiveLost(row, problem, stream, deps, log, options.refetchMalformed);
  const run = startLoadRun(deps, row, stream.schema);
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
        pauseAfterRows: deps.pauseLoadAfterRows,
        soleAccount: deps.soleAccount,
        firstStart: stream.start ?? horizon(clock.now(), deps.horizon),
      },
      deps.destination,
      state,
      log,
    );
    run.completed(load);
    const loaded = (await state.exports.get(row.id))!;
    log.info('loaded', {
      rows: load.rows,
      rejected: load.rejected,
      replaced: load.replaced,
      ...memoryFields(),
    });
    return { kind: 'loaded', exportRow: loaded, load };
  } catch (err) {
    run.failed(err);
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
      // A replay of a loaded export changes nothing: the table keeps the earlier load.
      if (row.status === 'loaded')
        return { kind: 'failed', exportRow: row, error: err as Error, retryable: false };
      if (!row.vendor_export_id) {
        // A file loaded by hand: nothing was spent; fix it and load-file again.
        const failed = await state.exports.update(
          row.id,
          { status: 'failed', error: message, retryable: false },
          clock.now(),
        );
        return { kind: 'failed', exportRow: failed, error: err as Error, retryable: false };
      }
      // The vendor's export is kept with its file (downloaded, backed off), so that its window is
      // not requested again by every sync: fix the schema or the setting and replay it, or give
      // it up.
      const now = clock.now();
      const wayOut = `${message}. The export is kept with its file: fix the schema or the setting, then \`replay --export ${row.id}\`; or \`exports abandon ${row.id} --reason TEXT\` to request its window again`;
      const kept = await state.exports.update(row.id, failurePatch(row, wayOut, now, { stuck: true }), now);
      // The run's summary and log say the way out too, not only the ledger.
      const error =
        err instanceof CsvFormatError
          ? new CsvFormatError(wayOut, err.line, { cause: err })
          : new SchemaError(wayOut, { cause: err });
      return { kind: 'failed', exportRow: kept, error, retryable: false };
    }
    // The destination or state store failed: the file stays downloaded, a rerun loads it; a
    // load that keeps failing gets a backoff instead of being tried by every sync.
    const now = clock.now();
    const kept = await state.exports.update(row.id, failurePatch(row, message, now), now).catch(() => row);
    return { kind: 'failed', exportRow: kept, error: err as Error, retryable };
  }
}

/**
 * An archived file that is gone or no longer the one the ledger recorded (size, sha256): never
 * loaded. A vendor export goes back to `submitted` so that it is downloaded again through the
 * status endpoint (by this drive, or by the next sync when no API may be called: `replay`).
 */
async function archiveLost(
  row: ExportRow,
  problem: string,
  stream: StreamConfig,
  deps: LifecycleDeps,
  log: ReturnType<Logger['child']>,
  refetch: boolean,
): Promise<DriveOutcome> {
  const { state, clock } = deps;
  if (row.archive_path) await rm(row.archive_path, { force: true }).catch(() => {});
  if (!row.vendor_export_id || !row.status_url) {
    const message = `${problem}; nothing loaded. Load the file again with load-file`;
    const failed = await state.exports.update(
      row.id,
      { status: 'failed', archive_path: null, error: message, retryable: false },
      clock.now(),
    );
    return { kind: 'failed', exportRow: failed, error: new ArchiveFileError(message), retryable: false };
  }
  if (row.status !== 'downloaded' && !refetch) {
    const message = `${problem}; nothing loaded. \`exports retry ${row.id}\` then \`sync\` downloads it again through the status endpoint`;
    return { kind: 'failed', exportRow: row, error: new ArchiveFileError(message), retryable: false };
  }
  const again = await state.exports.update(
    row.id,
    { status: 'submitted', archive_path: null, bytes: null, sha256: null, error: problem },
    clock.now(),
  );
  if (refetch) {
    log.warn('archived file missing or altered; downloading it again through the status endpoint', {
      error: problem,
    });
    return driveExport(again, stream, deps);
  }
  const message = `${problem}; nothing loaded. Run \`sync\`: it downloads export ${row.id} again through the status endpoint (no new export request) and loads it`;
  return { kind: 'failed', exportRow: again, error: new ArchiveFileError(message), retryable: true };
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
      { refetchMalformed: false },
    );
    if (outcome.kind === 'loaded')
      return { ok: true, rows: outcome.load.rows, rejected: outcome.load.rejected };
    if (outcome.kind === 'failed' && !row.vendor_export_id && outcome.exportRow.status === 'downloaded') {
      // A file loaded by hand is not left for a sync to retry: it fails here, its window free.
      await deps.state.exports.update(
        row.id,
        { status: 'failed', error: redact(outcome.error.message), retryable: false },
        deps.clock.now(),
      );
    }
    return { ok: false, error: outcome.kind === 'failed' ? outcome.error.message : outcome.kind };
  } finally {
    await deps.state.exports.release(row.id, deps.owner);
  }
}
