import type { Kysely } from 'kysely';
import type { SchedulePort, StreamDueEntry } from '../ports/state-ports.js';
import type { StateDatabase } from './state-tables.js';

/**
 * `stream_schedule`: per account and stream, whether the config enables it and when the
 * scheduler expects to request it next. The engine computes it (the scheduler is TypeScript);
 * this keeps it where SQL can read it: the `freshness` view, a dashboard.
 */
export class StreamSchedule implements SchedulePort {
  constructor(private readonly db: Kysely<StateDatabase>) {}

  /**
   * Records the account's enabled streams (`due`) and marks every other stream of the account
   * disabled, in one transaction.
   */
  async record(account: string, due: readonly StreamDueEntry[], now: Date): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (due.length) {
        await trx
          .insertInto('stream_schedule')
          .values(
            due.map((d) => ({
              account,
              stream: d.stream,
              enabled: true,
              next_due_at: d.nextDueAt,
              next_due_note: d.note,
              scheduled_at: now,
            })),
          )
          .onConflict((oc) =>
            oc.columns(['account', 'stream']).doUpdateSet((eb) => ({
              enabled: true,
              next_due_at: eb.ref('excluded.next_due_at'),
              next_due_note: eb.ref('excluded.next_due_note'),
              scheduled_at: now,
            })),
          )
          .execute();
      }
      let others = trx
        .updateTable('stream_schedule')
        .set({ enabled: false, next_due_at: null, next_due_note: null, scheduled_at: now })
        .where('account', '=', account);
      if (due.length)
        others = others.where(
          'stream',
          'not in',
          due.map((d) => d.stream),
        );
      await others.execute();
    });
  }
}
