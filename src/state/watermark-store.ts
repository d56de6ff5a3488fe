import { type CompiledQuery, type Kysely, sql } from 'kysely';
import { redact } from '../log/redact.js';
import type { ExportRecord } from '../ports/export-record.js';
import type { SqlConnection } from '../ports/sql.js';
import type { Gap, LoadCommit, WatermarkPort } from '../ports/state-ports.js';
import { ExportLedger } from './export-ledger.js';
import { toColumns } from './export-rows.js';
import { lockAccount } from './quota-ledger.js';
import { rejectedRowsPerInsert } from './state-constants.js';
import type { StateDatabase } from './state-tables.js';

/**
 * Where each stream of an account has loaded up to, the windows it will never get (gaps), and
 * the statements that move a watermark when a load commits. The watermark moves only inside the
 * load's commit, and only over a window contiguous with what is loaded, so it never runs ahead of
 * durable data nor past a span never loaded (Meltano's signpost rule: never past the time the
 * export was requested).
 */
export class WatermarkStore implements WatermarkPort {
  constructor(private readonly db: Kysely<StateDatabase>) {}

  /** The account's watermark of each stream that has one. */
  async byStream(account: string): Promise<Map<string, Date>> {
    const rows = await this.db
      .selectFrom('watermarks')
      .select(['stream', 'watermark'])
      .where('account', '=', account)
      .execute();
    return new Map(rows.map((r) => [r.stream, r.watermark]));
  }

  /** Sets a stream's watermark by hand (`reset`); null clears it, so the stream starts from its `start`. */
  async set(account: string, stream: string, watermark: Date | null, now: Date): Promise<void> {
    if (watermark === null) {
      await this.db
        .deleteFrom('watermarks')
        .where('account', '=', account)
        .where('stream', '=', stream)
        .execute();
      return;
    }
    await this.db
      .insertInto('watermarks')
      .values({ account, stream, watermark, updated_at: now, export_id: null })
      .onConflict((oc) =>
        oc.columns(['account', 'stream']).doUpdateSet({ watermark, updated_at: now, export_id: null }),
      )
      .execute();
  }

  /**
   * `reset`: sets (or, with null, clears) the streams' watermarks, unless another process holds a
   * claim on an unfinished export of one of them (its commit would move the watermark again):
   * then nothing changes and those exports are returned. Under the account's quota lock, so a
   * sync reserves its next export either before (its claim refuses the reset) or after (it sees
   * the watermark moved, and does not request what it planned from the old one).
   */
  resetUnlessClaimed(
    account: string,
    streams: readonly string[],
    watermark: Date | null,
    now: Date,
  ): Promise<ExportRecord[]> {
    return this.db.transaction().execute(async (trx) => {
      await lockAccount(trx, account);
      const held = await new ExportLedger(trx).heldClaims(account, streams, now);
      if (held.length) return held;
      const store = new WatermarkStore(trx);
      for (const stream of streams) await store.set(account, stream, watermark, now);
      return [];
    });
  }

  /** Records a window the vendor can no longer export (the 4-month rule); recording it twice is a no-op. */
  async recordGap(
    account: string,
    stream: string,
    start: Date,
    end: Date,
    reason: string,
    now: Date,
  ): Promise<void> {
    await this.db
      .insertInto('gaps')
      .values({ account, stream, gap_start: start, gap_end: end, reason, recorded_at: now })
      .onConflict((oc) => oc.columns(['account', 'stream', 'gap_start', 'gap_end']).doNothing())
      .execute();
  }

  /** The account's gaps, earliest first. */
  async gaps(account: string): Promise<Gap[]> {
    const rows = await this.db
      .selectFrom('gaps')
      .selectAll()
      .where('account', '=', account)
      .orderBy('gap_start')
      .execute();
    return rows.map((g) => ({
      stream: g.stream,
      start: g.gap_start,
      end: g.gap_end,
      reason: g.reason,
      recordedAt: g.recorded_at,
    }));
  }

  /**
   * Commits a load's state: on `connection` (the destination's open transaction in this same
   * database), or, without one, in a transaction of this store's own.
   */
  async commitLoad(commit: LoadCommit, connection?: SqlConnection): Promise<void> {
    const queries = this.commitLoadQueries(commit);
    if (connection) {
      for (const q of queries) await connection.query(q.sql, q.parameters);
      return;
    }
    await this.db.transaction().execute(async (trx) => {
      for (const q of queries) await trx.executeQuery(q);
    });
  }

  /**
   * The statements that commit a load in the state store: rejected rows, the ledger row marked
   * loaded, and the watermark moved forward when the window is contiguous with it. Compiled, so
   * that a destination sharing the database runs them inside its own data transaction.
   */
  private commitLoadQueries(input: LoadCommit): CompiledQuery[] {
    const { record, now } = input;
    const e = {
      id: record.ledgerId,
      account: record.account,
      stream: record.stream,
      window_start: record.windowStart,
      window_end: record.windowEnd,
      submitted_at: record.submittedAt,
      reserved_at: record.reservedAt,
    };
    const queries: CompiledQuery[] = [];
    queries.push(this.db.deleteFrom('rejected_rows').where('export_id', '=', e.id).compile());
    for (let i = 0; i < input.rejected.length; i += rejectedRowsPerInsert) {
      const chunk = input.rejected.slice(i, i + rejectedRowsPerInsert);
      queries.push(
        this.db
          .insertInto('rejected_rows')
          .values(
            chunk.map((r) => ({
              export_id: e.id,
              export_key: record.exportKey,
              stream: e.stream,
              line: r.line,
              raw: redact(r.raw),
              reason: r.reason,
              recorded_at: now,
            })),
          )
          .compile(),
      );
    }
    queries.push(
      this.db
        .updateTable('exports')
        .set({ ...toColumns(input.loaded), updated_at: now })
        .where('id', '=', e.id)
        .compile(),
    );
    if (input.moveWatermark) {
      // Never past the time the export was requested (signpost rule).
      const requested = e.submitted_at ?? e.reserved_at;
      const target = new Date(Math.min(e.window_end.getTime(), requested.getTime()));
      // A watermark moves only when the window is contiguous with it: it starts at or before it.
      queries.push(
        this.db
          .updateTable('watermarks')
          .set({ watermark: target, export_id: e.id, updated_at: now })
          .where('account', '=', e.account)
          .where('stream', '=', e.stream)
          .where('watermark', '<', target)
          .where('watermark', '>=', e.window_start)
          .compile(),
      );
      // A stream with no watermark has loaded nothing since its first-sync start: the first one is
      // set only by a window that reaches back to that start, or to the end of a gap recorded from
      // it (what the 4-month rule skipped). A window further on (a backfill, a file loaded by
      // hand, a sync planned before a reset) is loaded without one: the span before it is still
      // to be requested.
      const { firstStart } = input;
      queries.push(
        this.db
          .insertInto('watermarks')
          .columns(['account', 'stream', 'watermark', 'export_id', 'updated_at'])
          .expression(
            this.db
              .selectNoFrom((eb) => [
                eb.val(e.account).as('account'),
                eb.val(e.stream).as('stream'),
                eb.val(target).as('watermark'),
                eb.val(e.id).as('export_id'),
                eb.val(now).as('updated_at'),
              ])
              .where((w) =>
                w.and([
                  w.not(
                    w.exists(
                      w
                        .selectFrom('watermarks')
                        .select(sql.lit(1).as('one'))
                        .where('watermarks.account', '=', e.account)
                        .where('watermarks.stream', '=', e.stream),
                    ),
                  ),
                  w.or([
                    w(sql.val(e.window_start), '<=', firstStart),
                    w.exists(
                      w
                        .selectFrom('gaps')
                        .select(sql.lit(1).as('one'))
                        .where('gaps.account', '=', e.account)
                        .where('gaps.stream', '=', e.stream)
                        .where('gaps.gap_start', '<=', firstStart)
                        .where('gaps.gap_end', '>=', e.window_start),
                    ),
                  ]),
                ]),
              ),
          )
          .onConflict((oc) => oc.columns(['account', 'stream']).doNothing())
          .compile(),
      );
    }
    return queries;
  }
}
