import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import { claimOwnerParts } from '../ports/claim-owner.js';
import type { ExportPatch, ExportRecord, ExportStatus, NewExportRow } from '../ports/export-record.js';
import type { ExportLedgerPort } from '../ports/state-ports.js';
import { newRowColumns, toColumns, toRecord } from './export-rows.js';
import { isUniqueViolation } from './sql-pool.js';
import { claimTtlMs } from './state-constants.js';
import { type StateDatabase, unfinishedStatuses } from './state-tables.js';

function ownerIsDeadLocally(owner: string): boolean {
  const { host, pid } = claimOwnerParts(owner);
  if (host !== hostname() || !pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * The export ledger in PostgreSQL (`exports`): one row per export, written before each side
 * effect so that a crash resumes where it stopped. A process works on an export only while it
 * holds the row's claim; claims expire unless renewed, so a dead process's exports are taken over.
 * The rows' names stay here: the engine reads and writes {@link ExportRecord}s.
 */
export class ExportLedger implements ExportLedgerPort {
  constructor(private readonly db: Kysely<StateDatabase>) {}

  async get(id: string): Promise<ExportRecord | undefined> {
    const row = await this.db.selectFrom('exports').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  async findByVendorId(vendorId: string): Promise<ExportRecord | undefined> {
    const row = await this.db
      .selectFrom('exports')
      .selectAll()
      .where('vendor_export_id', '=', vendorId)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async write(id: string, patch: ExportPatch, now: Date): Promise<ExportRecord> {
    const row = await this.db
      .updateTable('exports')
      .set({ ...toColumns(patch), updated_at: now })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRecord(row);
  }

  async writeUnlessWindowTaken(
    id: string,
    patch: ExportPatch,
    now: Date,
  ): Promise<ExportRecord | 'window-taken'> {
    try {
      return await this.write(id, patch, now);
    } catch (err) {
      if (isUniqueViolation(err)) return 'window-taken';
      throw err;
    }
  }

  /** Exports of these streams not yet loaded or failed, oldest reservation first: a sync resumes them. */
  async unfinished(account: string, streams: readonly string[]): Promise<ExportRecord[]> {
    if (streams.length === 0) return [];
    const rows = await this.db
      .selectFrom('exports')
      .selectAll()
      .where('account', '=', account)
      .where('stream', 'in', streams)
      .where('status', 'in', unfinishedStatuses)
      .orderBy('reserved_at', 'asc')
      .execute();
    return rows.map(toRecord);
  }

  /** The accounts that have loaded an export of `stream`, in key order. */
  async loadedAccounts(stream: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('exports')
      .select('account')
      .distinct()
      .where('stream', '=', stream)
      .where('status', '=', 'loaded')
      .orderBy('account')
      .execute();
    return rows.map((r) => r.account);
  }

  /** The latest loaded export of exactly this stream window, if any (an orchestrator's rerun). */
  async loadedFor(
    account: string,
    stream: string,
    window: { start: Date; end: Date },
  ): Promise<ExportRecord | undefined> {
    const row = await this.db
      .selectFrom('exports')
      .selectAll()
      .where('account', '=', account)
      .where('stream', '=', stream)
      .where('status', '=', 'loaded')
      .where('window_start', '=', window.start)
      .where('window_end', '=', window.end)
      .orderBy('id', 'desc')
      .executeTakeFirst();
    return row && toRecord(row);
  }

  /** Loaded exports of the account whose archived file is still kept, loaded before `cutoff`. */
  async archivedLoadedBefore(account: string, cutoff: Date): Promise<ExportRecord[]> {
    const rows = await this.db
      .selectFrom('exports')
      .selectAll()
      .where('account', '=', account)
      .where('status', '=', 'loaded')
      .where('loaded_at', '<', cutoff)
      .where('archive_path', 'is not', null)
      .execute();
    return rows.map(toRecord);
  }

  /**
   * Deletes the rejected rows of the account's exports recorded before `cutoff`
   * (`state.rejectedRowsKeepDays`); the ledger rows stay. Returns how many went.
   */
  async pruneRejectedRows(account: string, cutoff: Date): Promise<number> {
    const r = await this.db
      .deleteFrom('rejected_rows')
      .where('recorded_at', '<', cutoff)
      .where('export_id', 'in', this.db.selectFrom('exports').select('id').where('account', '=', account))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Inserts a record a transition made (a file loaded by hand), claimed by `owner`. */
  async insert(row: NewExportRow, owner: string, now: Date): Promise<ExportRecord> {
    const inserted = await this.db
      .insertInto('exports')
      .values({
        ...newRowColumns(row),
        claimed_by: owner,
        claim_expires_at: new Date(now.getTime() + claimTtlMs),
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRecord(inserted);
  }

  /**
   * Claims an export for `owner`; null when another process holds it. A claim held by a live
   * process (or, on another host, not yet expired) is respected; a dead local owner's claim is
   * taken over at once. The update is conditional on the claim read, so two takers cannot both win.
   */
  async claim(id: string, owner: string, now: Date): Promise<ExportRecord | null> {
    const row = await this.db.selectFrom('exports').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    const free =
      !row.claimed_by ||
      row.claimed_by === owner ||
      (row.claim_expires_at !== null && row.claim_expires_at < now) ||
      ownerIsDeadLocally(row.claimed_by);
    if (!free) return null;
    const claimed = await this.db
      .updateTable('exports')
      .set({ claimed_by: owner, claim_expires_at: new Date(now.getTime() + claimTtlMs) })
      .where('id', '=', id)
      .where((eb) =>
        row.claimed_by === null ? eb('claimed_by', 'is', null) : eb('claimed_by', '=', row.claimed_by),
      )
      .returningAll()
      .executeTakeFirst();
    return claimed ? toRecord(claimed) : null;
  }

  /** Extends `owner`'s claim by the claim lifetime from `now`; a claim lost meanwhile stays lost. */
  async renewClaim(id: string, owner: string, now: Date): Promise<void> {
    await this.db
      .updateTable('exports')
      .set({ claim_expires_at: new Date(now.getTime() + claimTtlMs) })
      .where('id', '=', id)
      .where('claimed_by', '=', owner)
      .execute();
  }

  /**
   * Exports of these streams whose claim is held by another process: a live local process, or
   * one elsewhere whose claim has not expired (`reset` refuses while there is one).
   */
  async heldClaims(account: string, streams: readonly string[], now: Date): Promise<ExportRecord[]> {
    if (streams.length === 0) return [];
    const rows = await this.db
      .selectFrom('exports')
      .selectAll()
      .where('account', '=', account)
      .where('stream', 'in', streams)
      .where('claimed_by', 'is not', null)
      .where('status', 'in', unfinishedStatuses)
      .execute();
    return rows
      .filter(
        (r) => r.claim_expires_at !== null && r.claim_expires_at >= now && !ownerIsDeadLocally(r.claimed_by!),
      )
      .map(toRecord);
  }

  /** Gives up `owner`'s claim, if it still holds it. */
  async release(id: string, owner: string): Promise<void> {
    await this.db
      .updateTable('exports')
      .set({ claimed_by: null, claim_expires_at: null })
      .where('id', '=', id)
      .where('claimed_by', '=', owner)
      .execute();
  }

  /** The accounts' rows, newest first, optionally of these streams and statuses (`exports`). */
  async list(
    accounts: readonly string[],
    filter: { streams?: readonly string[]; statuses?: readonly string[]; limit: number },
  ): Promise<ExportRecord[]> {
    let q = this.db.selectFrom('exports').selectAll().where('account', 'in', accounts);
    if (filter.streams?.length) q = q.where('stream', 'in', filter.streams);
    if (filter.statuses?.length) q = q.where('status', 'in', filter.statuses as ExportStatus[]);
    return (await q.orderBy('id', 'desc').limit(filter.limit).execute()).map(toRecord);
  }
}
