import { redact } from './log/redact.js';

/**
 * The error taxonomy. Every error says whether a retry can help (`retryable`) and which exit code
 * the CLI maps it to, and keeps its cause. Messages name the setting or command that fixes them.
 */

export const ExitCode = {
  done: 0,
  failed: 1,
  usage: 2,
  deferred: 75,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** What each exit code means and what an orchestrator should do with it (docs/reference/errors.md). */
export const exitCodeMeanings: readonly { code: string; means: string; orchestrator: string }[] = [
  {
    code: '0',
    means:
      'done, or nothing due yet (a stream backing off after the run where its backoff began does not change it)',
    orchestrator: 'success',
  },
  {
    code: '75',
    means:
      "deferred: a stream waits for a quota slot (`nextSlotAt`), or an export is still processing at the API; progress is saved. Also a `sync` stopped by SIGTERM or SIGINT, and `reset`, `exports retry`, `exports abandon` or `replay` while another process holds the stream's or the export's claim",
    orchestrator:
      'skipped (`skip_on_exit_code=75`) or a retry later; the next run resumes, never requests twice',
  },
  {
    code: '1',
    means:
      'a stream failed (the summary says which, and whether `retryable`): an export in backoff, a stream the API began refusing in this run, an export the vendor reported failed, an `archive.dir` that cannot take a file, a clock more than 5 minutes off, a token endpoint down. The state store or destination database unreachable is exit 1 too (`StoreError`, retryable), before anything is requested or mid-run (an accepted export then waits in the local journal)',
    orchestrator: 'failed; a retry helps when `retryable` is true (a database back up, say)',
  },
  {
    code: '2',
    means: 'usage, config or credentials (`ConfigError`, `UsageError`, `AuthError`): nothing was requested',
    orchestrator: 'failed; fix the named setting, a retry does not help',
  },
  {
    code: '143, 130',
    means: 'a second SIGTERM or SIGINT while stopping: exits at once',
    orchestrator: 'killed',
  },
];

export abstract class SyncError extends Error {
  abstract readonly retryable: boolean;
  readonly exitCode: ExitCode = ExitCode.failed;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad configuration or CLI arguments: fix the named setting; nothing was requested. */
export class ConfigError extends SyncError {
  readonly retryable = false;
  override readonly exitCode = ExitCode.usage;
}

/** The vendor refused the credentials (token endpoint or a 401 after one renewal). */
export class AuthError extends SyncError {
  readonly retryable = false;
  override readonly exitCode = ExitCode.usage;
}

/** The rolling 24-hour export quota is used up; `nextSlotAt` is when the earliest slot frees. */
export class QuotaExhaustedError extends SyncError {
  readonly retryable = true;
  override readonly exitCode = ExitCode.deferred;
  constructor(
    readonly nextSlotAt: Date | null,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(
      message ??
        `Export quota used up; the next slot frees at ${nextSlotAt?.toISOString() ?? 'an unknown time'}. Run again then.`,
      options,
    );
  }
}

/** Another process holds the export's claim (it is working on it): run the command again later. */
export class ExportBusyError extends SyncError {
  readonly retryable = true;
  override readonly exitCode = ExitCode.deferred;
}

/** A command line that yargs cannot take (unknown option, missing argument): see `--help`. */
export class UsageError extends ConfigError {}

/** A window that cannot be requested as asked (`--start/--end` outside the 4-month rule, say). */
export class PlanError extends ConfigError {}

/** The vendor's 4-month rule refused the window (or the planner did, before asking). */
export class HorizonError extends SyncError {
  readonly retryable = false;
}

/**
 * The local clock disagrees with the vendor's (its `Date` header) by more than the tolerance:
 * nothing is planned, as windows and watermarks would follow the wrong clock. Fix the host's
 * time (NTP) and run again; exit 1, an environment problem, not a usage one.
 */
export class ClockSkewError extends SyncError {
  readonly retryable = false;
}

/**
 * A stream is being worked on by another process (a sync holds a claim on one of its exports):
 * a command that would race it refuses. Run it again when that process has finished; exit 75.
 */
export class StreamBusyError extends SyncError {
  readonly retryable = true;
  override readonly exitCode = ExitCode.deferred;
}

/** An HTTP status a retry may cure: none (network error), 429 or 5xx. */
export function retryableStatus(status: number | null): boolean {
  return status === null || status === 429 || status >= 500;
}

/** An HTTP call failed (`status` null: it got no answer). Retryable for network errors, 429 and 5xx. */
export class ApiError extends SyncError {
  readonly retryable: boolean;
  constructor(
    message: string,
    readonly status: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.retryable = this.retryableFor(status);
  }

  protected retryableFor(status: number | null): boolean {
    return retryableStatus(status);
  }
}

/**
 * The vendor refused an export request outright (a 4xx other than the quota and the horizon
 * rules): it created nothing, so no quota is counted. Not retryable as it stands.
 */
export class ExportRefusedError extends ApiError {}

/**
 * The status endpoint does not know the export (HTTP 404). Just after submission that is
 * eventual consistency; long after, the vendor has dropped it.
 */
export class ExportNotFoundError extends ApiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 404, options);
  }
}

/**
 * A request that never left this host: the connection was refused, the name did not resolve,
 * the connect timed out, or no token could be had before it. The vendor cannot have acted on it,
 * so an export request that ends here spends no quota; sending it again later may succeed.
 * Decided by the source connector, which knows its HTTP client's error codes.
 */
export class RequestNotSentError extends ApiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, null, options);
  }
}

/**
 * An export request the API answered but did not take: 429 (too many requests) or 503 (the
 * service unavailable) on the last of the client's attempts. Nothing was created, so it spends
 * no quota; the API is not asked again in this run.
 */
export class RequestNotTakenError extends ApiError {}

/**
 * The token endpoint failed after its retries. Retryable for network errors and 5xx only: a 429
 * that outlasted every retry is not waited out.
 */
export class TokenEndpointError extends ApiError {
  protected override retryableFor(status: number | null): boolean {
    return status === null || status >= 500;
  }
}

/** The vendor reported the export as failed: a new export of the window may succeed. */
export class ExportFailedError extends SyncError {
  readonly retryable: boolean = true;
}

/**
 * The vendor itself reported the export failed (Failed, Error, Cancelled, Expired). The slot is
 * spent; a stream whose exports keep failing this way is backed off on its own.
 */
export class VendorExportFailedError extends ExportFailedError {}

/** The export status body could not be understood (it is quoted): asking again may help. */
export class StatusUnreadableError extends ExportFailedError {}

/**
 * The vendor accepted an export request but named no export to follow. Not retried: the request
 * may have created an export, and another would spend another slot.
 */
export class UntrackableExportError extends ExportFailedError {
  override readonly retryable: boolean = false;
}

/** A download was cut off or malformed, or its URL stopped working. Fetch it again. */
export class DownloadError extends SyncError {
  readonly retryable: boolean = true;
}

/** A download URL that no longer works (401/403/404/410): poll the status for a fresh one. */
export class DownloadUrlExpiredError extends DownloadError {}

/**
 * A download that fetching again will not cure: a host or scheme the download policy refuses,
 * an HTTP answer no retry changes, or an export whose download attempts are spent.
 */
export class DownloadRefusedError extends DownloadError {
  override readonly retryable: boolean = false;
}

/**
 * The download policy refused the download URL's host or scheme (`account.allowedDownloadHosts`).
 * The export is kept: fix the setting and the next sync downloads it again, with no new export.
 */
export class DownloadHostRefusedError extends DownloadRefusedError {}

/** The errno codes of a local storage problem: the disk, a permission, a path, the open-file limit. */
export const localStorageCodes = [
  'ENOSPC',
  'EDQUOT',
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOTDIR',
  'EISDIR',
  'ENOENT',
  'EMFILE',
  'ENFILE',
] as const;

/** The errno code of `err` or of a cause down its chain when it is a local storage problem. */
export function localStorageCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 8; depth++) {
    const { code, syscall } = e as { code?: unknown; syscall?: unknown };
    // A socket's EACCES or ENOENT (connect, DNS) is the network's, not the disk's.
    const network = syscall === 'connect' || syscall === 'getaddrinfo' || syscall === 'bind';
    if (typeof code === 'string' && !network && (localStorageCodes as readonly string[]).includes(code))
      return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The archive directory cannot take a file (disk full, permission, a path that is not a
 * directory). Never the export's fault: the export is kept, and a run after the fix goes on.
 */
export class LocalStorageError extends SyncError {
  readonly retryable = true;
  constructor(
    message: string,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** What to do about `code`, for the message. */
  static advice(code: string | undefined): string {
    if (code === 'ENOSPC' || code === 'EDQUOT') return 'free space on that disk (or move archive.dir)';
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
      return 'give this user write permission there (or change archive.dir)';
    if (code === 'EMFILE' || code === 'ENFILE') return 'raise the open-file limit (ulimit -n)';
    return 'make archive.dir a writable directory';
  }
}

/**
 * An archived file is gone or is no longer the file the ledger recorded (its size or sha256
 * differs): it is never loaded; the export is downloaded again through the status endpoint.
 */
export class ArchiveFileError extends SyncError {
  readonly retryable: boolean = true;
}

/** A file does not fit the stream schema as a whole (missing event-time header, drift under `fail`, too many rejects). */
export class SchemaError extends SyncError {
  readonly retryable = false;
}

/** The state store or destination cannot be reached or refused a statement. */
export class StoreError extends SyncError {
  readonly retryable = true;

  /**
   * `what` failed because of a driver error: its message is redacted (a database URL can carry a
   * password, a statement can carry a secret) and the original is kept as the cause.
   */
  static wrap(what: string, err: unknown): StoreError {
    const message = (err as { message?: string } | null)?.message ?? String(err);
    return new StoreError(`${what}: ${redact(message)}`, { cause: err });
  }
}

/**
 * A file that is not well-formed CSV: the message names the line. Not retryable as such: a
 * downloaded file is fetched again by the export lifecycle, a local file needs fixing.
 */
export class CsvFormatError extends SyncError {
  readonly retryable = false;
  constructor(
    message: string,
    readonly line: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * One cell that cannot be read as its column's type. Never leaves the typer: its message becomes
 * the rejected row's reason.
 */
export class ValueError extends SyncError {
  readonly retryable = false;
}

export function isSyncError(err: unknown): err is SyncError {
  return err instanceof SyncError;
}

/**
 * Whether a retry can help, derived once from the error's class; an error that is not the
 * program's own (a driver's, a bug's) is taken as one a retry may cure.
 */
export function isRetryable(err: unknown): boolean {
  return isSyncError(err) ? err.retryable : true;
}

/** The exit code an error ends a command with: its own, or 1 for one that is not the program's. */
export function exitCodeOf(err: unknown): number {
  return isSyncError(err) ? err.exitCode : ExitCode.failed;
}

/** How bad an exit code is: a usage or config error, then a failure, then a deferral, then done. */
const severity: Record<number, number> = {
  [ExitCode.done]: 0,
  [ExitCode.deferred]: 1,
  [ExitCode.failed]: 2,
  [ExitCode.usage]: 3,
};

/** The worst of several exit codes (0 when there are none): what several accounts' runs end with. */
export function worstExitCode(codes: readonly number[]): number {
  return codes.reduce((w, c) => ((severity[c] ?? 2) > (severity[w] ?? 2) ? c : w), ExitCode.done as number);
}

/**
 * An error as a command's JSON reports it (`{ type, message, retryable }`); `message` is given,
 * already redacted (and prefixed, for an account).
 */
export function errorReport(
  err: unknown,
  message: string,
): { readonly type: string; readonly message: string; readonly retryable: boolean | null } {
  return {
    type: (err as Error | null)?.name ?? 'Error',
    message,
    retryable: isSyncError(err) ? err.retryable : null,
  };
}
