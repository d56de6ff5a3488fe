import { type Kysely, sql } from 'kysely';
import { QuotaExhaustedError } from '../errors.js';
import type { NewExportRow } from '../ports/export-record.js';
import type {
  OthersSeen,
  QuotaHistory,
  QuotaLimits,
  QuotaPort,
  QuotaView,
  Reservation,
} from '../ports/state-ports.js';
import { newRowColumns, toRecord } from './export-rows.js';
import { isUniqueViolation } from './sql-pool.js';
import {
  claimTtlMs,
  firstQuotaProbeMs,
  maxQuotaProbeMs,
  othersMemoryMs,
  quotaMarginMs,
  quotaWindowMs,
  refusalSlackMs,
} from './state-constants.js';
import { type StateDatabase, unfinishedStatuses } from './state-tables.js';

/**
 * The rolling 24-hour export quota of an account, counted from the ledger. Every
 * process sharing the account reserves through here, under one advisory lock per account, so two
 * of them never spend the same slot; the vendor's own quota errors are kept as blocks.
 */
export class QuotaLedger implements QuotaPort {
  constructor(private readonly db: Kysely<StateDatabase>) {}

  /** The quota at `now`: requests counted in the last 24 hours, when a slot frees, any block. */
  view(account: string, limits: QuotaLimits, now: Date): Promise<QuotaView> {
    return quotaView(this.db, account, limits, now);
  }

  /**
   * The account's spending history for the scheduler: its counted requests of the last 7 days,
   * newest first, and per stream the latest and how many.
   */
  async history(account: string, now: Date): Promise<QuotaHistory> {
    const rows = await countedRequests(this.db, account, now, 7 * quotaWindowMs);
    const spends = rows.map((r) => new Date(r.counted_at)).reverse();
    const byStream = new Map<string, { last: Date; count: number; times: Date[]; askedUntil: Date }>();
    for (const r of rows) {
      const at = new Date(r.counted_at);
      const s = byStream.get(r.stream);
      byStream.set(r.stream, {
        last: at,
        count: (s?.count ?? 0) + 1,
        times: [at, ...(s?.times ?? [])],
        askedUntil: s && s.askedUntil > r.window_end ? s.askedUntil : r.window_end,
      });
    }
    return { spends, byStream };
  }

  /**
   * Reserves a quota slot and writes the ledger row (made by the `reserve` transition) before the request is sent, atomically: a
   * transaction holding the account's advisory lock counts the rolling 24 hours and inserts. The
   * row is claimed by `owner`. A second unfinished export of the stream (the unique index on
   * unfinished windows included) is `busy`, not an error: some process is already on it. A
   * window planned from the watermark `plannedFrom` is `moved` when the watermark is no longer at
   * or past it: a `reset` (which takes the same lock) came between the planning and now.
   */
  async reserveExport(
    row: NewExportRow,
    limits: QuotaLimits,
    now: Date,
    owner: string,
    plannedFrom?: Date,
  ): Promise<Reservation> {
    try {
      return await this.db.transaction().execute(async (trx): Promise<Reservation> => {
        await lockAccount(trx, row.account);
        if (plannedFrom) {
          const current = await trx
            .selectFrom('watermarks')
            .select('watermark')
            .where('account', '=', row.account)
            .where('stream', '=', row.stream)
            .executeTakeFirst();
          if (!current || current.watermark < plannedFrom)
            return { kind: 'moved', planned: plannedFrom, watermark: current?.watermark ?? null };
        }
        const q = await quotaView(trx, row.account, limits, now);
        if (q.blockedUntil) {
          const error = new QuotaExhaustedError(
            q.blockedUntil,
            `the API reported its export quota used up; nothing is requested before ${q.blockedUntil.toISOString()}`,
          );
          return { kind: 'exhausted', error, vendorBlock: true };
        }
        if (q.used >= q.limit) return { kind: 'exhausted', error: new QuotaExhaustedError(q.nextSlotAt) };
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
            ...newRowColumns(row),
            updated_at: now,
            claimed_by: owner,
            claim_expires_at: new Date(now.getTime() + claimTtlMs),
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        return { kind: 'reserved', record: toRecord(reserved) };
      });
    } catch (err) {
      if (isUniqueViolation(err)) return { kind: 'busy' };
      throw err;
    }
  }

  /**
   * Records the vendor's refusal of a request for quota, and learns from it. The vendor counts
   * every request of the account, ours and everyone else's: with `c` of ours counted here (over 24
   * hours and {@link refusalSlackMs}), others hold at least `perDay - c` slots. That many are left free to them for the next
   * {@link othersMemoryMs} (the next days are planned without refusals). Nothing is sent for a
   * short while, doubling with each refusal in a row from {@link firstQuotaProbeMs} up to
   * {@link maxQuotaProbeMs}: a slot held by someone else can free at any moment, and asking costs
   * nothing. Returns when a request may be sent again (the block, or our own count's next slot
   * under the new limit, whichever is later), how many of ours are counted, and the others' slots.
   */
  async recordVendorRefusal(
    account: string,
    reason: string,
    now: Date,
    limits: QuotaLimits,
  ): Promise<{ until: Date; used: number; othersSeen: OthersSeen | null }> {
    // Under the account's lock: two processes refused at once count two refusals in a row.
    return this.db.transaction().execute(async (db) => {
      await lockAccount(db, account);
      const counted = await countedRequests(db, account, now);
      // Ours the vendor may still count: those of the last 24 hours and a few minutes more (its
      // clock, or the instant it counts from, can lag ours).
      const recent = await countedRequests(db, account, now, quotaWindowMs + refusalSlackMs);
      const prior = await db
        .selectFrom('quota_blocks')
        .select(['refusals', 'others_used', 'others_seen_until'])
        .where('account', '=', account)
        .executeTakeFirst();
      const refusals = (prior?.refusals ?? 0) + 1;
      const seenNow = Math.min(limits.perDay - 1, Math.max(0, limits.perDay - recent.length));
      // Our own requests explain the refusal (one just left our count, not yet the vendor's): no one
      // else is seen, and the API is asked again once that one has surely left. Otherwise a slot
      // someone else holds can free at any moment: asked again soon, then less and less often.
      const blockedUntil =
        seenNow === 0 && recent.length > 0
          ? new Date(
              Math.max(now.getTime(), recent[0]!.counted_at.getTime() + quotaWindowMs + refusalSlackMs),
            )
          : new Date(now.getTime() + Math.min(maxQuotaProbeMs, firstQuotaProbeMs * 2 ** (refusals - 1)));
      const priorSeen = prior?.others_seen_until && prior.others_seen_until > now ? prior.others_used : 0;
      const othersUsed = Math.max(seenNow, priorSeen);
      const seenUntil =
        seenNow > 0 ? new Date(now.getTime() + othersMemoryMs) : (prior?.others_seen_until ?? null);
      const values = {
        blocked_until: blockedUntil,
        reason,
        recorded_at: now,
        refusals,
        others_used: othersUsed,
        others_seen_until: othersUsed > 0 ? seenUntil : null,
      };
      await db
        .insertInto('quota_blocks')
        .values({ account, ...values })
        .onConflict((oc) => oc.column('account').doUpdateSet(values))
        .execute();
      const q = await quotaView(db, account, limits, now);
      const until = q.nextSlotAt && q.nextSlotAt > blockedUntil ? q.nextSlotAt : blockedUntil;
      return { until, used: counted.length, othersSeen: q.othersSeen };
    });
  }

  /** The API accepted a request: the refusals in a row end (the next refusal waits the least). */
  async recordAccepted(account: string): Promise<void> {
    await this.db
      .updateTable('quota_blocks')
      .set({ refusals: 0 })
      .where('account', '=', account)
      .where('refusals', '>', 0)
      .execute();
  }

  /**
   * Forgets the account's quota refusal and what it taught (`unblock --quota`): the block ends and
   * no slot is left to others beyond `reserveForOthers`. Returns whether there was anything.
   */
  async forget(account: string): Promise<boolean> {
    const r = await this.db.deleteFrom('quota_blocks').where('account', '=', account).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}

/**
 * Takes the account's quota lock until the transaction ends: one reservation, refusal or watermark
 * reset at a time.
 */
export async function lockAccount(db: Kysely<StateDatabase>, account: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`cxone-od-sync:quota:${account}`}, 0))`.execute(
    db,
  );
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
    .select(['stream', 'window_end', countedAt.as('counted_at')])
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
  limits: QuotaLimits,
  now: Date,
): Promise<QuotaView> {
  const rows = await countedRequests(db, account, now);
  const block = await db
    .selectFrom('quota_blocks')
    .select(['blocked_until', 'others_used', 'others_seen_until'])
    .where('account', '=', account)
    .executeTakeFirst();
  const blockedUntil = block && block.blocked_until > now ? block.blocked_until : null;
  const othersSeen =
    block?.others_seen_until && block.others_seen_until > now && block.others_used > 0
      ? { slots: block.others_used, until: block.others_seen_until }
      : null;
  const reserved = Math.min(limits.perDay - 1, Math.max(limits.reserveForOthers, othersSeen?.slots ?? 0));
  const limit = limits.perDay - reserved;
  const used = rows.length;
  let nextSlotAt: Date | null = null;
  if (used >= limit) {
    const freeing = rows[used - limit]!;
    nextSlotAt = new Date(freeing.counted_at.getTime() + quotaWindowMs + quotaMarginMs);
  }
  return {
    limit,
    perDay: limits.perDay,
    reserved,
    othersSeen,
    used,
    nextSlotAt,
    blockedUntil,
    oldestAt: rows[0]?.counted_at ?? null,
  };
}
