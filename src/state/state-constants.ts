/**
 * The state layer's fixed numbers, in one place: the schema its tables live in, how long a claim
 * lasts, and the vendor's quota window that every count and block is measured against.
 */

/** The PostgreSQL schema of the state tables (SPEC section 8); migrations are recorded there too. */
export const stateSchema = 'cxone_od_sync';

/**
 * How long a claim on an export lasts without renewal. A live owner renews it every minute; a
 * process on another host that died leaves it to expire (a dead local owner is seen at once).
 */
export const claimTtlMs = 10 * 60_000;

/** The vendor's quota window: an export request counts against the account for 24 rolling hours. */
export const quotaWindowMs = 86_400_000;

/**
 * Added to the quota window when this side counts a request. A request is counted from the
 * vendor's answer (`submitted_at`), which is already after the vendor received it, so the margin
 * only absorbs rounding: a slot is taken as free two seconds after the vendor frees it. Every
 * second here delays each later request by as much (the slots of a day free one after another),
 * so it is kept small: with a minute, an 8-hourly cron drifted past its wait within ten days.
 */
export const quotaMarginMs = 2_000;

/**
 * How long a vendor quota refusal blocks requests when no counted request of ours dates it (the
 * quota was spent by someone else): an hour, then the vendor is asked again.
 */
export const quotaBlockFallbackMs = 3_600_000;

/** Rejected rows per INSERT statement when a load commits (well under PostgreSQL's 65535 parameters). */
export const rejectedRowsPerInsert = 500;
