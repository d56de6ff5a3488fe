/**
 * The state layer's fixed numbers, in one place: the schema its tables live in, how long a claim
 * lasts, and the vendor's quota window that every count and block is measured against.
 */

/** The PostgreSQL schema of the state tables ; migrations are recorded there too. */
export const stateSchema = 'cxone_od_sync';

/**
 * How long a claim on an export lasts without renewal. A live owner renews it every minute; a
 * process on another host that died leaves it to expire (a dead local owner is seen at once).
 */
export const claimTtlMs = 10 * 60_000;

/** The vendor's quota window: an export request counts against the account for 24 rolling hours. */
export { quotaWindowMs } from '../ports/state-ports.js';

/**
 * Added to the quota window when this side counts a request. A request is counted from the
 * vendor's answer (`submitted_at`), which is already after the vendor received it, so the margin
 * only absorbs rounding and a slightly fast local clock (250 ms is 3 ppm of a day): a slot is
 * taken as free a quarter second after the vendor frees it. Every bit of it delays each day's
 * requests by as much again (the slots of a day free one after another): with 2 s, and 1 s more
 * of waiting, an 8-hourly cron drifted past its 10-minute wait for a slot in about 150 days. A
 * refusal it cannot prevent (a clock further off) costs a few minutes (`refusalSlackMs`).
 */
export const quotaMarginMs = 250;

/**
 * How much later than this side the vendor may count a request when a quota refusal is read: its
 * clock a little behind ours, or counting from an instant after its answer. A refusal that our
 * own requests of the last 24 hours and this explain teaches nothing about others; the request
 * is sent again once the one about to leave has surely left.
 */
export const refusalSlackMs = 5 * 60_000;

/**
 * How long a vendor quota refusal blocks requests the first time: 15 minutes, doubling with
 * each refusal in a row up to {@link maxQuotaProbeMs}. A refused request costs nothing, and a slot
 * someone else holds can free at any moment, so the API is asked again soon rather than never
 * for a day.
 */
export const firstQuotaProbeMs = 15 * 60_000;

/** The longest block after refusals in a row: the pace of a quota of 3. */
export const maxQuotaProbeMs = 8 * 3_600_000;

/**
 * How long the slots a refusal showed someone else holding are left to them: ten days. Nothing
 * tells the connector when they stop (their refusals are not its to see), so it keeps to the
 * smaller share for a while, then tries the whole quota again; a refusal then relearns it. Ten
 * days is three such tries a month.
 */
export const othersMemoryMs = 10 * 86_400_000;

/** Rejected rows per INSERT statement when a load commits (well under PostgreSQL's 65535 parameters). */
export const rejectedRowsPerInsert = 500;
