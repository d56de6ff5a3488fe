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

/** A command line that yargs cannot take (unknown option, missing argument): see `--help`. */
export class UsageError extends ConfigError {}

/** A window that cannot be requested as asked (`--start/--end` outside the 4-month rule, say). */
export class PlanError extends ConfigError {}

/** The vendor's 4-month rule refused the window (or the planner did, before asking). */
export class HorizonError extends SyncError {
  readonly retryable = false;
}

/** An HTTP call failed. `retryable` for 429, 5xx and network errors. */
export class ApiError extends SyncError {
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The vendor reported the export as failed, or its status body could not be understood. */
export class ExportFailedError extends SyncError {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A download was cut off, malformed or from a host that is not allowed. Fetch it again. */
export class DownloadError extends SyncError {
  constructor(
    message: string,
    readonly retryable = true,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
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
