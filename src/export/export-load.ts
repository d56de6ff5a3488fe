import { rm } from 'node:fs/promises';
import { ArchiveFileError, CsvFormatError, isRetryable, SchemaError } from '../errors.js';
import { backOff, fail, requeueDownload } from '../ledger/export-transitions.js';
import { startLoadRun } from '../load/lineage-run.js';
import { loadWindowFile } from '../load/window-loader.js';
import { memoryFields } from '../log/logger.js';
import { redact } from '../log/redact.js';
import { horizon } from '../plan/planner.js';
import type { ExportRecord } from '../ports/export-record.js';
import type { StreamConfig } from '../ports/run-settings.js';
import { archivedFileProblem } from './archive-check.js';
import type { DriveOutcome, ExportLog, LifecycleDeps } from './drive-outcome.js';

/** Where a load ended: an outcome, or the export put back to `submitted` to be fetched again. */
export type LoadStep = DriveOutcome | { kind: 'requeued'; record: ExportRecord };

/**
 * Loads an archived file. With `refetch`, a malformed file is a bad download and a lost or
 * altered archive a lost one: the export goes back to `submitted` (`requeued`) and the drive
 * fetches it again through the status endpoint. `verify: false` skips re-hashing a file this
 * drive has just written.
 */
export async function loadDownloaded(
  record: ExportRecord,
  stream: StreamConfig,
  deps: LifecycleDeps,
  log: ExportLog,
  options: { refetch: boolean; verify?: boolean },
): Promise<LoadStep> {
  const { state, clock } = deps;
  const problem = options.verify === false ? null : await archivedFileProblem(record);
  if (problem) return archiveLost(record, problem, deps, log, options.refetch);
  const run = startLoadRun(deps, record, stream.schema);
  try {
    log.info('loading', { file: record.archivePath, bytes: record.bytes });
    const load = await loadWindowFile(
      {
        file: record.archivePath!,
        schema: stream.schema,
        record,
        window: { start: record.windowStart, end: record.windowEnd },
        timeZone: record.timeZone,
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
    const loaded = (await state.exports.get(record.ledgerId))!;
    log.info('loaded', {
      rows: load.rows,
      rejected: load.rejected,
      replaced: load.replaced,
      ...memoryFields(),
    });
    return { kind: 'loaded', record: loaded, load };
  } catch (err) {
    run.failed(err);
    return loadFailed(record, err, deps, log, options.refetch);
  }
}

/** What a failed load leaves: the export kept (backed off) with the way out, or fetched again. */
async function loadFailed(
  record: ExportRecord,
  err: unknown,
  deps: LifecycleDeps,
  log: ExportLog,
  refetch: boolean,
): Promise<LoadStep> {
  const { state, clock } = deps;
  if (err instanceof CsvFormatError && record.vendorExportId && refetch) {
    log.warn('downloaded file is malformed; fetching it again', { error: err.message });
    await rm(record.archivePath!, { force: true });
    const again = await state.exports.write(
      record.ledgerId,
      requeueDownload(record, redact(err.message), { attemptSpent: true, dropFile: true }),
      clock.now(),
    );
    return { kind: 'requeued', record: again };
  }
  const retryable = isRetryable(err);
  const message = redact((err as Error).message);
  if (err instanceof SchemaError || err instanceof CsvFormatError) {
    // A replay of a loaded export changes nothing: the table keeps the earlier load.
    if (record.status === 'loaded') return { kind: 'failed', record, error: err as Error, retryable: false };
    if (!record.vendorExportId) {
      // A file loaded by hand: nothing was spent; fix it and load-file again.
      const failed = await state.exports.write(record.ledgerId, fail(record, message), clock.now());
      return { kind: 'failed', record: failed, error: err as Error, retryable: false };
    }
    // The vendor's export is kept with its file (downloaded, backed off), so that its window is
    // not requested again by every sync: fix the schema or the setting and replay it, or give
    // it up.
    const now = clock.now();
    const wayOut = `${message}. The export is kept with its file: fix the schema or the setting, then \`replay --export ${record.ledgerId}\`; or \`exports abandon ${record.ledgerId} --reason TEXT\` to request its window again`;
    const kept = await state.exports.write(
      record.ledgerId,
      backOff(record, wayOut, now, { stuck: true }),
      now,
    );
    // The run's summary and log say the way out too, not only the ledger.
    const error =
      err instanceof CsvFormatError
        ? new CsvFormatError(wayOut, err.line, { cause: err })
        : new SchemaError(wayOut, { cause: err });
    return { kind: 'failed', record: kept, error, retryable: false };
  }
  // The destination or state store failed: the file stays downloaded, a rerun loads it; a
  // load that keeps failing gets a backoff instead of being tried by every sync.
  const now = clock.now();
  const kept = await state.exports
    .write(record.ledgerId, backOff(record, message, now), now)
    .catch(() => record);
  return { kind: 'failed', record: kept, error: err as Error, retryable };
}

/**
 * An archived file that is gone or no longer the one the ledger recorded (size, sha256): never
 * loaded. A vendor export goes back to `submitted` so that it is downloaded again through the
 * status endpoint (by this drive, or by the next sync when no API may be called: `replay`).
 */
async function archiveLost(
  record: ExportRecord,
  problem: string,
  deps: LifecycleDeps,
  log: ExportLog,
  refetch: boolean,
): Promise<LoadStep> {
  const { state, clock } = deps;
  if (record.archivePath) await rm(record.archivePath, { force: true }).catch(() => {});
  if (!record.vendorExportId || !record.statusUrl) {
    const message = `${problem}; nothing loaded. Load the file again with load-file`;
    const error = new ArchiveFileError(message);
    // A loaded file stays loaded (its rows are in the table); one not loaded is given up.
    if (record.status === 'loaded') return { kind: 'failed', record, error, retryable: false };
    const failed = await state.exports.write(
      record.ledgerId,
      fail(record, message, { dropFile: true }),
      clock.now(),
    );
    return { kind: 'failed', record: failed, error, retryable: false };
  }
  if (record.status !== 'downloaded' && !refetch) {
    const message = `${problem}; nothing loaded. \`exports retry ${record.ledgerId}\` then \`sync\` downloads it again through the status endpoint`;
    return { kind: 'failed', record, error: new ArchiveFileError(message), retryable: false };
  }
  const again = await state.exports.write(
    record.ledgerId,
    requeueDownload(record, problem, { attemptSpent: false, dropFile: true }),
    clock.now(),
  );
  if (refetch) {
    log.warn('archived file missing or altered; downloading it again through the status endpoint', {
      error: problem,
    });
    return { kind: 'requeued', record: again };
  }
  const message = `${problem}; nothing loaded. Run \`sync\`: it downloads export ${record.ledgerId} again through the status endpoint (no new export request) and loads it`;
  return { kind: 'failed', record: again, error: new ArchiveFileError(message), retryable: true };
}

export type ReloadResult = { ok: true; rows: number; rejected: number } | { ok: false; error: string };

/**
 * Loads an export's archived file again, calling no API (`replay`, `load-file`): a malformed
 * file fails instead of being fetched again. The caller holds the claim; it is released here.
 */
export async function reloadArchived(
  record: ExportRecord,
  stream: StreamConfig,
  deps: LifecycleDeps,
): Promise<ReloadResult> {
  try {
    const outcome = await loadDownloaded(
      record,
      stream,
      deps,
      deps.log.child({ stream: record.stream, ledgerId: record.ledgerId }),
      { refetch: false },
    );
    if (outcome.kind === 'loaded')
      return { ok: true, rows: outcome.load.rows, rejected: outcome.load.rejected };
    if (outcome.kind === 'failed' && !record.vendorExportId && outcome.record.status === 'downloaded') {
      // A file loaded by hand is not left for a sync to retry: it fails here, its window free.
      await deps.state.exports.write(
        record.ledgerId,
        fail(outcome.record, redact(outcome.error.message)),
        deps.clock.now(),
      );
    }
    return { ok: false, error: outcome.kind === 'failed' ? outcome.error.message : outcome.kind };
  } finally {
    await deps.state.exports.release(record.ledgerId, deps.owner);
  }
}
