import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { json } from './http-reply.js';

/** Switchable faults (docs/contract.md, "The simulator"). Every field can be changed at run time over `POST /_sim/faults`. */
export interface SimulatorFaults {
  /** Extra latency on every API answer. */
  latencyMs?: number;
  /** The next N calls of a kind answer this status (503 or 429, with Retry-After seconds). */
  failNext?: FailureFault | FailureFault[];
  /** The next N status answers give a download URL that has already expired. */
  expireNextUrls?: number;
  /** Invalidates every token issued so far (the next API call gets a 401). */
  revokeTokens?: boolean;
  /** Serves downloads at this many bytes per second (for tests that stop a process mid-download). */
  downloadBytesPerSecond?: number;
  /**
   * Downloads send this many bytes of the file, then nothing more until the client goes away:
   * a download that is certainly in the middle when a test stops the process.
   */
  stallDownloadsAfterBytes?: number;
  /** Lifetime of issued tokens. */
  tokenTtlSeconds?: number;
  /** Lifetime of signed download URLs. */
  urlTtlMs?: number;
  /** Time an export stays Pending. */
  processingMs?: number;
  /** The next N downloads are cut off in the middle of a record; with or without Content-Length. */
  truncateDownloads?: { count: number; withContentLength: boolean };
  /** Every Nth data row gets a bad value in a typed column. */
  malformedEvery?: number;
  /** Adds an extra column `Sentiment Score` to every file. */
  driftExtraHeader?: boolean;
  /**
   * Writes these headers in place of the display headers they name (`{ Category: 'Categ\xC3ry' }`),
   * each character as one byte (latin1): a file whose header is not valid UTF-8.
   */
  rawHeaders?: Record<string, string>;
  /** The simulator's own rolling 24h quota. */
  quota?: number;
  /**
   * Export requests are received, validated and created (counted in `stats.exportRequests`, so
   * the quota counts them), but their 202 is held until released: `POST /_sim/release`, the
   * handle's `releaseHeld()`, or setting this back to false. `stats.heldExportRequests` is the
   * number held right now; closing the simulator destroys their connections.
   */
  holdExportRequests?: boolean;
  /**
   * The next N export requests are created at the vendor (counted in `stats.exportRequests` and
   * `stats.droppedExportAnswers`), then the connection is destroyed before any byte of the
   * answer: the client sees a socket error after sending ("the vendor may have accepted it").
   * Takes precedence over `holdExportRequests`. Counts down as it fires.
   */
  dropExportAnswers?: number;
  /**
   * Downloads are answered whole with `Connection: close`, and the socket is destroyed as soon as
   * the last byte is handed to the operating system (a server that closes right after the body
   * while the client may still be applying backpressure). Counted in
   * `stats.downloadsClosedAfterBody`. A truncated or throttled download ignores it (but for the
   * header).
   */
  closeAfterBody?: boolean;
  /**
   * Writes each whole download body in writes of at most this many bytes (many small writes);
   * ignored by truncated and throttled downloads.
   */
  downloadChunkBytes?: number;
  /**
   * The status endpoint answers 404 (`Export {id} not found`) for these export ids, or for every
   * export when true, for as long as this is set: a vendor that no longer knows the export.
   * Downloads of URLs already handed out still work.
   */
  forgetExports?: boolean | string[];
  /**
   * Every answer of both origins (API, token endpoint, downloads) carries a `Date` header of the
   * simulator's clock (the `now` option, else the real clock) plus this many milliseconds.
   * Default 0: the `Date` header always follows the simulator's clock.
   */
  dateOffsetMs?: number;
  /**
   * Export requests for these table paths (`AutopilotKnowledge/GRTable`, ...) are refused with
   * the status (403: a tenant whose environment does not expose the table; 404; 400 for a filter
   * the table rejects), before the quota is looked at: nothing is created or counted. Recorded in
   * `stats.rejectedExportRequests`.
   */
  refuseTables?: Record<string, { status: number; message?: string }>;
  /** Exports of these table paths are created (and counted), then reported Failed by the status endpoint. */
  failExports?: string[];
}

export interface FailureFault {
  kind: 'token' | 'export' | 'status' | 'download';
  status: number;
  count: number;
  retryAfterSeconds?: number;
}

/**
 * The faults in force, with their defaults, and the counted ones spent as they fire. Counters
 * (`failNext`, `expireNextUrls`, `truncateDownloads`) are decremented in the objects the caller
 * passed, so a test can watch them run down.
 */
export class FaultPlan {
  #faults: SimulatorFaults;

  /** `revokeTokens` is how a `revokeTokens: true` update invalidates the tokens issued so far. */
  constructor(
    initial: SimulatorFaults | undefined,
    private readonly revokeTokens: () => void,
  ) {
    this.#faults = { ...initial };
  }

  /** The faults as they stand (the answer to `POST /_sim/faults`). */
  get current(): SimulatorFaults {
    return this.#faults;
  }

  /** Merges `update` into the faults in force; `revokeTokens` acts once and is not kept. */
  update(update: SimulatorFaults): void {
    if (update.revokeTokens) this.revokeTokens();
    const { revokeTokens: _ignored, ...rest } = update;
    this.#faults = { ...this.#faults, ...rest };
  }

  /**
   * Answers the request with the next pending failure of `kind` (its status, and Retry-After
   * when set) and spends it; false, answering nothing, when none is pending.
   */
  takeFailure(kind: FailureFault['kind'], res: ServerResponse): boolean {
    const failNext = this.#faults.failNext;
    const list = Array.isArray(failNext) ? failNext : failNext ? [failNext] : [];
    const f = list.find((x) => x.kind === kind && x.count > 0);
    if (!f) return false;
    f.count--;
    const headers: Record<string, string> =
      f.retryAfterSeconds !== undefined ? { 'retry-after': String(f.retryAfterSeconds) } : {};
    json(
      res,
      f.status,
      { message: `simulated ${f.status}`, statusCode: f.status, traceId: randomUUID() },
      headers,
    );
    return true;
  }

  /** Whether the next download URL must be already expired; spends one when it must. */
  takeExpiredUrl(): boolean {
    if (!this.#faults.expireNextUrls || this.#faults.expireNextUrls <= 0) return false;
    this.#faults.expireNextUrls--;
    return true;
  }

  /** The truncation the next download must suffer, if any; spends one. */
  takeTruncation(): { withContentLength: boolean } | undefined {
    const t = this.#faults.truncateDownloads;
    if (!t || t.count <= 0) return undefined;
    t.count--;
    return { withContentLength: t.withContentLength };
  }

  /** Whether this export's answer must be dropped; spends one when it must. */
  takeDroppedAnswer(): boolean {
    if (!this.#faults.dropExportAnswers || this.#faults.dropExportAnswers <= 0) return false;
    this.#faults.dropExportAnswers--;
    return true;
  }

  /** Whether the status endpoint must no longer know export `id`. */
  forgets(id: string): boolean {
    const f = this.#faults.forgetExports;
    return f === true || (Array.isArray(f) && f.includes(id));
  }

  /** The refusal export requests for `tablePath` get, if any. */
  refusalOf(tablePath: string): { status: number; message: string } | undefined {
    const r = this.#faults.refuseTables?.[tablePath];
    if (!r) return undefined;
    const message =
      r.message ??
      (r.status === 403
        ? 'Forbidden'
        : r.status === 404
          ? `Table ${tablePath} not found`
          : `Invalid request for ${tablePath}`);
    return { status: r.status, message };
  }

  /** Whether exports of `tablePath` fail at the vendor. */
  failsExportsOf(tablePath: string): boolean {
    return this.#faults.failExports?.includes(tablePath) === true;
  }

  get holdExportRequests(): boolean {
    return this.#faults.holdExportRequests === true;
  }

  get closeAfterBody(): boolean {
    return this.#faults.closeAfterBody === true;
  }

  get downloadChunkBytes(): number | undefined {
    return this.#faults.downloadChunkBytes;
  }

  get dateOffsetMs(): number {
    return this.#faults.dateOffsetMs ?? 0;
  }

  get latencyMs(): number | undefined {
    return this.#faults.latencyMs;
  }

  get tokenTtlSeconds(): number {
    return this.#faults.tokenTtlSeconds ?? 3600;
  }

  get urlTtlMs(): number {
    return this.#faults.urlTtlMs ?? 60_000;
  }

  get processingMs(): number {
    return this.#faults.processingMs ?? 0;
  }

  get quota(): number {
    return this.#faults.quota ?? 3;
  }

  get downloadBytesPerSecond(): number | undefined {
    return this.#faults.downloadBytesPerSecond;
  }

  get stallDownloadsAfterBytes(): number | undefined {
    return this.#faults.stallDownloadsAfterBytes;
  }

  get malformedEvery(): number | undefined {
    return this.#faults.malformedEvery;
  }

  get driftExtraHeader(): boolean {
    return this.#faults.driftExtraHeader === true;
  }

  /** What `rawHeaders` writes for the display header `header`, if anything. */
  rawHeader(header: string): string | undefined {
    return this.#faults.rawHeaders?.[header];
  }
}
