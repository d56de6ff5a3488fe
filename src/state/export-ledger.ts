import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import { claimTtlMs } from './state-constants.js';
import {
  type ExportPatch,
  type ExportRow,
  type LedgerStatus,
  type NewExportInput,
  type StateDatabase,
  unfinishedStatuses,
} from './state-tables.js';

/**
 * What one process calls itself when it claims an export: host, pid and a random part (a pid
 * can be reused). The format is the ledger's; read it with {@link claimHost}.
 */
export function processOwner(): string {
  return `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
}

/** The host of the process holding an export's claim, to tell the user where it runs; null when unclaimed. */
export function claimHost(row: Pick<ExportRow, 'claimed_by'>): string | null {
  return row.claimed_by === null ? null : parseOwner(row.claimed_by).host;
}

function parseOwner(owner: string): { host: string; pid: string | undefined } {
  const [host = '', pid] = owner.split(':');
  return { host, pid };
}

function ownerIsDeadLocally(owner: string): boolean {
  const { host, pid } = parseOwner(owner);
  if (host !== hostname() || !pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * The key of an export as its destination rows carry it (`_export_id`): the vendor's export id,
 * or `local-<ledger id>` for a file loaded by hand. The ledger's generated `export_key` column and
 * `rejected_rows.export_key` hold the same value, so one key joins a row, its ledger entry and
 * its rejected rows.
 */
export function exportKey(row: Pick<ExportRow, 'id' | 'vendor_export_id'>): string {
  return row.vendor_export_id ?? `local-${row.id}`;
}

/** A file loaded by hand as the caller describes it; status, times, quota flag and claim are the ledger's. */
export type LocalFileRow = NewExportInput;

/**
 * The export ledger (SPEC section 3): one row per export, written before each side effect so
 * that a crash resumes where it stopped. A process works on an export only while it holds the
 * row's claim; claims expire unless renewed, so a dead process's exports are taken over.
 */
export class ExportLedger {
  constructor(private readonly db: Kysely<StateDatabase>) {}

  get(id: string): Promise<ExportRow | undefined> {
    return this.db.selectFrom('exports').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The row of the vendor's export id (`replay --export` takes either id). */
  findByVendorId(vendorId: string): Promise<ExportRow | undefined> {
    return this.db
      .selectFrom('exports')
      .selectAll()
      .where('vendor_export_id', '=', vendorId)
      .executeTakeFirst();
  }

  /** Writes `patch` and the update time; the row must exist. */
  update(id: string, patch: ExportPatch, now: Date): Promise<ExportRow> {
    return this.db
      .updateTable('exports')
      .set({ ...patch, updated_at: now })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Exports of these streams not yet loaded or failed, oldest reservation first: a sync resumes them. */
  async unfinished(account: string, streams: readonly string[]): Promise<ExportRow[]> {
    if (streams.length === 0) return [];
    return this.db
      .selectFrom('exports')
      .selectAll()
      .where('account', '=', account)
      .where('stream', 'in', streams)
      .where('status', 'in', unfinishedStatuses)
      .orderBy('reserved_at', 'asc')
      .execute();
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
  loadedFor(
    account: string,
    stream: string,
    window: { start: Date; end: Date },
  ): Promise<ExportRow | undefined> {
    return this.db
      .selectFrom('exports')
      .selectAll()
      .where('account', '=', account)
      .where('stream', '=', stream)
      .where('status', '=', 'loaded')
      .where('window_start', '=', window.start)
      .where('window_end', '=', window.end)
      .orderBy('id', 'desc')
      .executeTakeFirst();
  }

  /** Loaded exports of the account whose archived file is still kept, loaded before `cutoff`. */
  archivedLoadedBefore(
    account: string,
    cutoff: Date,
  ): Promise<{ id: string; archive_path: string | null }[]> {
    return this.db
      .selectFrom('exports')
      .select(['id', 'archive_path'])
      .where('account', '=', account)
      .where('status', '=', 'loaded')
      .where('loaded_at', '<', cutoff)
      .where('archive_path', 'is not', null)
      .execute();
  }

  /** Records a file loaded by hand (`load-file`): downloaded already, counting no quota, claimed by `owner`. */
  recordLocalFile(row: LocalFileRow, owner: string, now: Date): Promise<ExportRow> {
    return this.db
      .insertInto('exports')
      .values({
        ...row,
        status: 'downloaded',
        counts_quota: false,
        reserved_at: now,
        claimed_by: owner,
        claim_expires_at: new Date(now.getTime() + claimTtlMs),
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /**
   * Claims an export for `owner`; null when another process holds it. A claim held by a live
   * process (or, on another host, not yet expired) is respected; a dead local owner's claim is
   * taken over at once. The update is conditional on the claim read, so two takers cannot both win.
   */
  async claim(id: string, owner: string, now: Date): Promise<ExportRow | null> {
    const row = await this.get(id);
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
    return claimed ?? null;
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
  async heldClaims(account: string, streams: readonly string[], now: Date): Promise<ExportRow[]> {
    if (streams.length === 0) return [];
    const rows = await this.db
      .selectFrom('exports')
      .selectAll()
      .where('account', '=', account)
      .where('stream', 'in', streams)
      .where('claimed_by', 'is not', null)
      .where('status', 'in', unfinishedStatuses)
      .execute();
    return rows.filter(
      (r) => r.claim_expires_at !== null && r.claim_expires_at >= now && !ownerIsDeadLocally(r.claimed_by!),
    );
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
  list(
    accounts: readonly string[],
    filter: { streams?: readonly string[]; statuses?: readonly string[]; limit: number },
  ): Promise<ExportRow[]> {
    let q = this.db.selectFrom('exports').selectAll().where('account', 'in', accounts);
    if (filter.streams?.length) q = q.where('stream', 'in', filter.streams);
    if (filter.statuses?.length) q = q.where('status', 'in', filter.statuses as LedgerStatus[]);
    return q.orderBy('id', 'desc').limit(filter.limit).execute();
  }
}
