import type { Kysely } from 'kysely';
import { redact } from '../log/redact.js';
import type {
  StreamBackoff,
  StreamBackoffPort,
  StreamBackoffReason,
  StreamFailure,
} from '../ports/state-ports.js';
import type { StateDatabase, StreamBackoffRow } from './state-tables.js';

function toBackoff(r: StreamBackoffRow): StreamBackoff {
  return {
    account: r.account,
    stream: r.stream,
    reason: r.reason,
    failures: r.failures,
    firstFailedAt: r.first_failed_at,
    lastFailedAt: r.last_failed_at,
    nextAttemptAt: r.next_attempt_at,
    error: r.error,
    requestKey: r.request_key,
  };
}

/**
 * `stream_backoff`: per account and stream, a stream the API refuses or whose exports fail at the
 * vendor. The engine decides the backoff (`src/plan/stream-backoff.ts`); this keeps it where
 * every process sharing the account, `status` and the freshness view read it.
 */
export class StreamBackoffs implements StreamBackoffPort {
  constructor(private readonly db: Kysely<StateDatabase>) {}

  /** The account's backoff rows, by stream (expired ones included: the engine decides). */
  async byStream(account: string): Promise<Map<string, StreamBackoff>> {
    const rows = await this.db
      .selectFrom('stream_backoff')
      .selectAll()
      .where('account', '=', account)
      .execute();
    return new Map(rows.map((r) => [r.stream, toBackoff(r)]));
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
  ): Promise<StreamBackoff> {
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
      const row = await trx
        .insertInto('stream_backoff')
        .values({ account, stream, ...values })
        .onConflict((oc) => oc.columns(['account', 'stream']).doUpdateSet(values))
        .returningAll()
        .executeTakeFirstOrThrow();
      return toBackoff(row);
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
