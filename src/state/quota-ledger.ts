import { type Kysely, sql } from 'kysely';
import { QuotaExhaustedError } from '../errors.js';
import { isUniqueViolation } from './sql-pool.js';
import { claimTtlMs, quotaBlockFallbackMs, quotaMarginMs, quotaWindowMs } from './state-constants.js';
import {
  type ExportRow,
  type NewExportInput,
  type StateDatabase,
  unfinishedStatuses,
} from './state-tables.js';

/** The account's export quota as the ledger counts it at one instant. */
export interface QuotaView {
  readonly limit: number;
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
  /** Per stream: its latest counted request, how many in the 7 days, and when each was (newest first). */
  readonly byStream: ReadonlyMap<
    string,
    { readonly last: Date; readonly count: number; readonly times: readonly Date[] }
  >;
}

/** A new export as the caller describes it; its status, times, quota flag and claim are the ledger's. */
export type ExportRequestRow = NewExportInput;

/** The outcome of {@link QuotaLedger.reserveExport}: nothing is written unless `reserved`. */
export type Reservation =
  /** The ledger row, status `reserved`, claimed by the caller: send the request now. */
  | { readonly kind: 'reserved'; readonly row: ExportRow }
  /** The stream already has an unfinished export (another process, or an earlier run, has it). */
  | { readonly kind: 'busy' }
  /** No slot is free, or the vendor's quota error is in force: `error.nextSlotAt` says until when. */
  | { readonly kind: 'exhausted'; readonly error: QuotaExhaustedError };

/**
 * The rolling 24-hour export quota of an account, counted from the ledger (SPEC section 4). Every
 * process sharing the account reserves through here, under one advisory lock per account, so two
 * of them never spend the same slot; the vendor's own quota errors are kept as blocks.
 */
export class QuotaLedger {
  constructor(private readonly db: Kysely<StateDatabase>) {}

  /** The quota at `now`: requests counted in the last 24 hours, when a slot frees, any block. */
  view(account: string, limit: number, now: Date): Promise<QuotaView> {
    return quotaView(this.db, account, limit, now);
  }

  /**
   * The account's spending history for the scheduler: its counted requests of the last 7 days,
   * newest first, and per stream the latest and how many.
   */
  async history(account: string, now: Date): Promise<QuotaHistory> {
    const rows = await countedRequests(this.db, account, now, 7 * quotaWindowMs);
    const spends = rows.map((r) => new Date(r.counted_at)).reverse();
    const byStream = new Map<string, { last: Date; count: number; times: Date[] }>();
    for (const r of rows) {
      const at = new Date(r.counted_at);
      const s = byStream.get(r.stream);
      byStream.set(r.stream, { last: at, count: (s?.count ?? 0) + 1, times: [at, ...(s?.times ?? [])] });
    }
    return { spends, byStream };
  }

  /**
   * Reserves a quota slot and writes the ledger row before the request is sent, atomically: a
   * transaction holding the account's advisory lock counts the rolling 24 hours and inserts. The
   * row is claimed by `owner`. A second unfinished export of the stream (the unique index on
   * unfinished windows included) is `busy`, not an error: some process is already on it.
   */
  async reserveExport(row: ExportRequestRow, limit: number, now: Date, owner: string): Promise<Reservation> {
    try {
      return await this.db.transaction().execute(async (trx): Promise<Reservation> => {
        await sql`select pg_advisory_xact_lock(hashtextextended(${`cxone-od-sync:quota:${row.account}`}, 0))`.execute(
          trx,
        );
        const q = await quotaView(trx, row.account, limit, now);
        if (q.blockedUntil) {
          const error = new QuotaExhaustedError(
            q.blockedUntil,
            `the API reported its export quota used up; nothing is requested before ${q.blockedUntil.toISOString()}`,
          );
          return { kind: 'exhausted', error };
        }
        if (q.used >= limit) return { kind: 'exhausted', error: new QuotaExhaustedError(q.nextSlotAt) };
        const open = await trx
          .selectFrom('exports')
          .select('id')
          .where('account', '=', row.account)
          .where('stream', '=', row.stream)
          .where('status', 'in', unfinishedStatuses)
          .executeTakeFirst();
        if (open) return { kind: 'busy' };
        const reserved = await trx
          .insertInto('exports')
          .values({
            ...row,
            status: 'reserved',
            reserved_at: now,
            updated_at: now,
            claimed_by: owner,
            claim_expires_at: new Date(now.getTime() + claimTtlMs),
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        return { kind: 'reserved', row: reserved };
      });
    } catch (err) {
      if (isUniqueViolation(err)) return { kind: 'busy' };
      throw err;
    }
  }

  /**
   * Records the vendor's refusal of a request for quota: nothing is requested for the account
   * until the oldest request counted here leaves the 24 hours (the vendor counts it too), or for
   * an hour when none is counted. Returns that instant and how many requests are counted here.
   */
  async recordVendorRefusal(
    account: string,
    reason: string,
    now: Date,
  ): Promise<{ until: Date; used: number }> {
    const counted = await countedRequests(this.db, account, now);
    const oldestAt = counted[0]?.counted_at;
    const until = oldestAt
      ? new Date(oldestAt.getTime() + quotaWindowMs + quotaMarginMs)
      : new Date(now.getTime() + quotaBlockFallbackMs);
    await this.db
      .insertInto('quota_blocks')
      .values({ account, blocked_until: until, reason, recorded_at: now })
      .onConflict((oc) =>
        oc.column('account').doUpdateSet({ blocked_until: until, reason, recorded_at: now }),
      )
      .execute();
    return { until, used: counted.length };
  }
}

/**
 * When the vendor may have counted a request: once it answered, at the answer (`submitted_at`);
 * a failed request that may have arrived, at the failure; one in flight, at its reservation.
 * Each is at or after the vendor's own instant, so a slot is never taken as free too early.
 */
const countedAt = sql<Date>`coalesce(submitted_at, case when status = 'failed' then updated_at end, reserved_at)`;

/** Requests that count against the account at `now` (with the margin), oldest first. */
function countedRequests(db: Kysely<StateDatabase>, account: string, now: Date, windowMs = quotaWindowMs) {
  return db
    .selectFrom('exports')
    .select(['stream', countedAt.as('counted_at')])
    .where('account', '=', account)
    .where('counts_quota', '=', true)
    .where(countedAt, '>', new Date(now.getTime() - windowMs - quotaMarginMs))
    .orderBy('counted_at', 'asc')
    .execute();
}

/** The quota at `now`, read through `db` (the store, or the reserving transaction). */
async function quotaView(
  db: Kysely<StateDatabase>,
  account: string,
  limit: number,
  now: Date,
): Promise<QuotaView> {
  const rows = await countedRequests(db, account, now);
  const block = await db
    .selectFrom('quota_blocks')
    .select('blocked_until')
    .where('account', '=', account)
    .executeTakeFirst();
  const blockedUntil = block && block.blocked_until > now ? block.blocked_until : null;
  const used = rows.length;
  let nextSlotAt: Date | null = null;
  if (used >= limit) {
    const freeing = rows[used - limit]!;
    nextSlotAt = new Date(freeing.counted_at.getTime() + quotaWindowMs + quotaMarginMs);
  }
  return { limit, used, nextSlotAt, blockedUntil, oldestAt: rows[0]?.counted_at ?? null };
}
