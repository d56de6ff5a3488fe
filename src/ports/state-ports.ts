import type { QuotaExhaustedError } from '../errors.js';
import type { Window } from '../model/window.js';
import type { ExportPatch, ExportRecord, NewExportRow } from './export-record.js';
import type { SqlConnection } from './sql.js';

/**
 * The state the engine keeps, as the engine needs it (the way kysely owns `Dialect`): the export
 * ledger, the quota, watermarks and gaps, the run log, stream backoffs and the schedule. The
 * engine is written against these; `StateStore` (src/state) is their PostgreSQL implementation,
 * and its row types never leave it.
 */
export interface StatePorts {
  readonly exports: ExportLedgerPort;
  readonly quota: QuotaPort;
  readonly watermarks: WatermarkPort;
  readonly runs: RunLogPort;
  readonly backoffs: StreamBackoffPort;
  readonly schedule: SchedulePort;
}

/**
 * The export ledger: one record per export, written before each side effect. A process works on
 * an export only while it holds the record's claim. `write` stores what a transition of
 * `src/export/export-transitions.ts` returns; no other code makes a patch that changes a status.
 */
export interface ExportLedgerPort {
  get(ledgerId: string): Promise<ExportRecord | undefined>;
  /** The record of the vendor's export id (`replay --export` takes either id). */
  findByVendorId(vendorExportId: string): Promise<ExportRecord | undefined>;
  /** Writes a transition's patch and the update time; the record must exist. */
  write(ledgerId: string, patch: ExportPatch, now: Date): Promise<ExportRecord>;
  /**
   * `write`, unless it would give the record's window a second unfinished export (another one was
   * requested meanwhile): then `'window-taken'`, and nothing is written.
   */
  writeUnlessWindowTaken(
    ledgerId: string,
    patch: ExportPatch,
    now: Date,
  ): Promise<ExportRecord | 'window-taken'>;
  /** Inserts a record made by a transition (a file loaded by hand), claimed by `owner`. */
  insert(row: NewExportRow, owner: string, now: Date): Promise<ExportRecord>;
  /** Exports of these streams not yet loaded or failed, oldest reservation first. */
  unfinished(account: string, streams: readonly string[]): Promise<ExportRecord[]>;
  /** The accounts that have loaded an export of `stream`, in key order. */
  loadedAccounts(stream: string): Promise<string[]>;
  /** Deletes the rejected rows of the account's exports recorded before `cutoff`; returns how many. */
  pruneRejectedRows(account: string, cutoff: Date): Promise<number>;
  /** The latest loaded export of exactly this stream window, if any (an orchestrator's rerun). */
  loadedFor(account: string, stream: string, window: Window): Promise<ExportRecord | undefined>;
  /** Loaded exports of the account whose archived file is still kept, loaded before `cutoff`. */
  archivedLoadedBefore(account: string, cutoff: Date): Promise<ExportRecord[]>;
  /** Claims an export for `owner`; null when another live process holds it. */
  claim(ledgerId: string, owner: string, now: Date): Promise<ExportRecord | null>;
  renewClaim(ledgerId: string, owner: string, now: Date): Promise<void>;
  /** Exports of these streams whose claim another live process holds. */
  heldClaims(account: string, streams: readonly string[], now: Date): Promise<ExportRecord[]>;
  release(ledgerId: string, owner: string): Promise<void>;
  /** The accounts' records, newest first, optionally of these streams and statuses. */
  list(
    accounts: readonly string[],
    filter: { streams?: readonly string[]; statuses?: readonly string[]; limit: number },
  ): Promise<ExportRecord[]>;
}

/** The account's quota as configured: what the vendor allows, and what is left to others. */
export interface QuotaLimits {
  /** Export requests the vendor allows per rolling 24 hours (`exportsPer24h`). */
  readonly perDay: number;
  /** Of those, how many the connector always leaves free (`reserveForOthers`). */
  readonly reserveForOthers: number;
}

/** The vendor's rolling quota window: 24 hours. */
export const quotaWindowMs = 86_400_000;

/** Someone else's use of the account's quota, as a vendor refusal revealed it. */
export interface OthersSeen {
  /** Slots of `exportsPer24h` others were seen to hold. */
  readonly slots: number;
  /** The connector leaves them free until then. */
  readonly until: Date;
}

/** The account's export quota as the ledger counts it at one instant. */
export interface QuotaView {
  /** Requests the connector may have in any rolling 24 hours now: `perDay` less what is left to others. */
  readonly limit: number;
  /** `exportsPer24h`. */
  readonly perDay: number;
  /** Slots left to others now: `reserveForOthers`, or more while others were seen to use more. */
  readonly reserved: number;
  /** Others' use learned from a refusal, while it is remembered. */
  readonly othersSeen: OthersSeen | null;
  readonly used: number;
  /** When the earliest counted request leaves the rolling 24 hours (null when a slot is free). */
  readonly nextSlotAt: Date | null;
  /** A vendor quota error recorded earlier: nothing is sent before this. */
  readonly blockedUntil: Date | null;
  /** The earliest counted request still inside the rolling 24 hours. */
  readonly oldestAt: Date | null;
}

/** What the account spent lately, as the scheduler reads it. */
export interface QuotaHistory {
  /** Counted requests of the last 7 days, newest first. */
  readonly spends: readonly Date[];
  /**
   * Per stream: its latest counted request, how many in the 7 days, when each was (newest
   * first), and the latest window end any of them asked for (whether it loaded or not).
   */
  readonly byStream: ReadonlyMap<
    string,
    {
      readonly last: Date;
      readonly count: number;
      readonly times: readonly Date[];
      readonly askedUntil: Date;
    }
  >;
}

/** The outcome of {@link QuotaPort.reserveExport}: nothing is written unless `reserved`. */
export type Reservation =
  /** The ledger record, status `reserved`, claimed by the caller: send the request now. */
  | { readonly kind: 'reserved'; readonly record: ExportRecord }
  /** The stream already has an unfinished export (another process, or an earlier run, has it). */
  | { readonly kind: 'busy' }
  /**
   * The stream's watermark went back, or was cleared (a `reset`), after the window was planned
   * from `planned`: the window is not what the stream needs now. `watermark`: the one in force.
   */
  | { readonly kind: 'moved'; readonly planned: Date; readonly watermark: Date | null }
  /**
   * No slot is free, or the vendor's quota error is in force (`vendorBlock`): `error.nextSlotAt`
   * says until when.
   */
  | { readonly kind: 'exhausted'; readonly error: QuotaExhaustedError; readonly vendorBlock?: boolean };

/**
 * The rolling 24-hour export quota of an account, counted from the ledger. Every process sharing
 * the account reserves through here, one at a time per account, so two never spend one slot.
 */
export interface QuotaPort {
  view(account: string, limits: QuotaLimits, now: Date): Promise<QuotaView>;
  history(account: string, now: Date): Promise<QuotaHistory>;
  /**
   * Inserts `row` (made by the `reserve` transition), claimed by `owner`, if a slot is free, the
   * stream has no unfinished export, and its watermark is still `plannedFrom` (when given).
   */
  reserveExport(
    row: NewExportRow,
    limits: QuotaLimits,
    now: Date,
    owner: string,
    plannedFrom?: Date,
  ): Promise<Reservation>;
  /** Records the vendor's quota refusal; returns until when nothing is sent, and what it teaches. */
  recordVendorRefusal(
    account: string,
    message: string,
    now: Date,
    limits: QuotaLimits,
  ): Promise<{ until: Date; used: number; othersSeen: OthersSeen | null }>;
  /** The quota refusals in a row end: the API accepted a request. */
  recordAccepted(account: string): Promise<void>;
  /** Forgets the vendor's block and what it taught of others' use (`unblock --quota`). */
  forget(account: string): Promise<boolean>;
}

/** A CSV row that could not be loaded: kept with its export, its text redacted. */
export interface RejectedRow {
  readonly line: number;
  readonly raw: string;
  readonly reason: string;
}

/** What a load commits to the state along with its data. */
export interface LoadCommit {
  /** The export as it was before the load. */
  readonly record: ExportRecord;
  /** The `markLoaded` transition's patch. */
  readonly loaded: ExportPatch;
  readonly rejected: readonly RejectedRow[];
  readonly now: Date;
  /** Whether this load may move the watermark (a replay of an old export does not move it back). */
  readonly moveWatermark: boolean;
  /**
   * Where the stream's history begins while it has no watermark: its configured `start`, or the
   * 4-month horizon at the load. Only a window reaching back to it sets the first watermark.
   */
  readonly firstStart: Date;
}

/** A window the vendor can no longer export (the 4-month rule), recorded so that it is never silent. */
export interface Gap {
  readonly stream: string;
  readonly start: Date;
  readonly end: Date;
  readonly reason: string;
  readonly recordedAt: Date;
}

/**
 * Where each stream has loaded up to (its watermark), its gaps, and the commit of a load: the
 * watermark moves only inside that commit, over a window contiguous with what is loaded.
 */
export interface WatermarkPort {
  byStream(account: string): Promise<Map<string, Date>>;
  set(account: string, stream: string, watermark: Date | null, now: Date): Promise<void>;
  /**
   * `reset`: sets (or clears) the watermarks unless another process holds a claim on an
   * unfinished export of one of the streams; then nothing changes and those exports are returned.
   */
  resetUnlessClaimed(
    account: string,
    streams: readonly string[],
    watermark: Date | null,
    now: Date,
  ): Promise<ExportRecord[]>;
  recordGap(
    account: string,
    stream: string,
    start: Date,
    end: Date,
    reason: string,
    now: Date,
  ): Promise<void>;
  gaps(account: string): Promise<Gap[]>;
  /**
   * Commits a load's state: its rejected rows, the record marked loaded, the watermark moved. On
   * `connection` (the destination's open transaction in the same database), or, without one, in
   * a transaction of the state store's own.
   */
  commitLoad(commit: LoadCommit, connection?: SqlConnection): Promise<void>;
}

/** One command run, as `status` shows it. */
export interface RunRecord {
  readonly id: string;
  readonly command: string;
  readonly account: string | null;
  readonly startedAt: Date;
  readonly endedAt: Date | null;
  readonly outcome: string | null;
  readonly exitCode: number | null;
  readonly summary: unknown;
}

/** The log of command runs: what ran, how it ended, its summary (redacted). */
export interface RunLogPort {
  start(command: string, account: string | null, now: Date): Promise<string>;
  finish(id: string, outcome: string, exitCode: number, summary: unknown, now: Date): Promise<void>;
  /** When the account's earlier runs of `command` started, newest first, leaving out `except`. */
  previousStarts(
    account: string,
    command: string,
    except: string | undefined,
    limit?: number,
  ): Promise<Date[]>;
  last(account: string, limit?: number): Promise<RunRecord[]>;
  /**
   * Deletes the account's runs started before `cutoff`, except the latest `keepLatest` of each
   * command; returns how many went.
   */
  prune(account: string, cutoff: Date, keepLatest: number): Promise<number>;
}

/** Why a stream is backed off on its own. */
export type StreamBackoffReason = 'not_exposed' | 'refused' | 'vendor_failed';

/** A stream the API refuses or whose exports fail at the vendor, backed off on its own. */
export interface StreamBackoff {
  readonly account: string;
  readonly stream: string;
  readonly reason: StreamBackoffReason;
  readonly failures: number;
  readonly firstFailedAt: Date;
  readonly lastFailedAt: Date;
  readonly nextAttemptAt: Date;
  readonly error: string;
  /** The request settings the failures were seen with: a config that changes them clears it. */
  readonly requestKey: string;
}

/** One failure of a stream as the engine reports it. */
export interface StreamFailure {
  readonly reason: StreamBackoffReason;
  /** The error, as the summary shows it (redacted again before it is stored). */
  readonly error: string;
  /** The stream's request settings the failure was seen with. */
  readonly requestKey: string;
}

export interface StreamBackoffPort {
  byStream(account: string): Promise<Map<string, StreamBackoff>>;
  /** One more failure, atomically; `nextAttempt(failures)` is the backoff for that many in a row. */
  recordFailure(
    account: string,
    stream: string,
    failure: StreamFailure,
    now: Date,
    nextAttempt: (failures: number) => Date,
  ): Promise<StreamBackoff>;
  /** Ends the backoff of `streams` (all when none named), or only those for one of `reasons`. */
  clear(
    account: string,
    streams?: readonly string[],
    reasons?: readonly StreamBackoffReason[],
  ): Promise<string[]>;
}

/** One stream's next due time as the scheduler decided it. */
export interface StreamDueEntry {
  readonly stream: string;
  /** When its next export is expected to be requested; null when nothing is planned. */
  readonly nextDueAt: Date | null;
  /** The scheduler's reason when it is not due now. */
  readonly note: string | null;
}

/** Each stream's next due time, where SQL (the freshness view) reads it. */
export interface SchedulePort {
  record(account: string, due: readonly StreamDueEntry[], now: Date): Promise<void>;
}
