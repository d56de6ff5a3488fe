import type { Kysely } from 'kysely';
import { redact } from '../log/redact.js';
import type { StateDatabase, StreamBackoffReason, StreamBackoffRow } from './state-tables.js';

/** One failure of a stream as the engine reports it. */
export interface StreamFailure {
  readonly reason: StreamBackoffReason;
  /** The error, as the summary shows it (redacted here again before it is stored). */
  readonly error: string;
  /** The stream's request settings the failure was seen with. */
  readonly requestKey: string;
}

/**
 * `stream_backoff`: per account and stream, a stream the API refuses or whose exports fail at the
 * vendor. The engine decides the backoff (`src/plan/stream-backoff.ts`); this keeps it where
 * every process sharing the account, `status` and the freshness view read it.
 */
export class StreamBackoffs {
  constructor(private readonly db: Kysely<StateDatabase>) {}

  /** The account's backoff rows, by stream (expired ones included: the engine decides). */
  async byStream(account: string): Promise<Map<string, StreamBackoffRow>> {
    const rows = await this.db
      .selectFrom('stream_backoff')
      .selectAll()
      .where('account', '=', account)
      .execute();
    return new Map(rows.map((r) => [r.stream, r]));
  }

  /**
   * Records one more failure of the stream, atomically: a failure of the same reason and request
   * settings as the row's adds to it, any other starts the count again. `nextAttempt(failures)`
   * is the backoff for that many failures in a row. Returns the row as written.
   */
  async recordFailure(
    account: string,
    stream: string,
    failure: StreamFailure,
    now: Date,
    nextAttempt: (failures: number) => Date,
  ): Promise<StreamBackoffRow> {
    return this.db.transaction().execute(async (trx) => {
      const prior = await trx
        .selectFrom('stream_backoff')
        .selectAll()
        .where('account', '=', account)
        .where('stream', '=', stream)
        .forUpdate()
        .executeTakeFirst();
      const same = prior && prior.reason === failure.reason && prior.request_key === failure.requestKey;
      const failures = same ? prior.failures + 1 : 1;
      const values = {
        reason: failure.reason,
        failures,
        first_failed_at: same ? prior.first_failed_at : now,
        last_failed_at: now,
        next_attempt_at: nextAttempt(failures),
        error: redact(failure.error),
        request_key: failure.requestKey,
      };
      return trx
        .insertInto('stream_backoff')
        .values({ account, stream, ...values })
        .onConflict((oc) => oc.columns(['account', 'stream']).doUpdateSet(values))
        .returningAll()
        .executeTakeFirstOrThrow();
    });
  }

  /**
   * Ends the backoff of `streams` (every stream of the account when none is named); with
   * `reasons`, only a backoff for one of them. Returns the streams whose backoff ended.
   */
  async clear(
    account: string,
    streams?: readonly string[],
    reasons?: readonly StreamBackoffReason[],
  ): Promise<string[]> {
    let q = this.db.deleteFrom('stream_backoff').where('account', '=', account);
    if (streams) {
      if (streams.length === 0) return [];
      q = q.where('stream', 'in', streams);
    }
    if (reasons) q = q.where('reason', 'in', reasons);
    const rows = await q.returning('stream').execute();
    return rows.map((r) => r.stream);
  }
}
