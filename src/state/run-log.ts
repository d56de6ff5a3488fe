import type { Kysely } from 'kysely';
import { redact } from '../log/redact.js';
import type { RunLogPort, RunRecord } from '../ports/state-ports.js';
import type { StateDatabase } from './state-tables.js';

/**
 * One row per command run (`runs`): what ran, for which account, how it ended and its summary,
 * so that `status` can show the last run without a log. Summaries are redacted before storing.
 */
export class RunLog implements RunLogPort {
  constructor(private readonly db: Kysely<StateDatabase>) {}

  /** Records the start of a command; returns the run id for {@link RunLog.finish}. */
  async start(command: string, account: string | null, now: Date): Promise<string> {
    const r = await this.db
      .insertInto('runs')
      .values({ command, account, started_at: now, summary: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return r.id;
  }

  async finish(id: string, outcome: string, exitCode: number, summary: unknown, now: Date): Promise<void> {
    await this.db
      .updateTable('runs')
      .set({ ended_at: now, outcome, exit_code: exitCode, summary: redact(JSON.stringify(summary)) })
      .where('id', '=', id)
      .execute();
  }

  /**
   * When the account's earlier runs of `command` started, newest first, leaving out the run
   * `except` (the one asking): the scheduler reads from them how often the connector is run.
   */
  async previousStarts(
    account: string,
    command: string,
    except: string | undefined,
    limit = 8,
  ): Promise<Date[]> {
    let q = this.db
      .selectFrom('runs')
      .select('started_at')
      .where('account', '=', account)
      .where('command', '=', command);
    if (except !== undefined) q = q.where('id', '!=', except);
    const rows = await q.orderBy('started_at', 'desc').limit(limit).execute();
    return rows.map((r) => new Date(r.started_at));
  }

  /**
   * Deletes the account's runs that started before `cutoff`, except the latest `keepLatest` of
   * each command (how often sync is run, and the last run `status` shows, are read from them).
   * Returns how many rows went.
   */
  async prune(account: string, cutoff: Date, keepLatest: number): Promise<number> {
    const commands = await this.db
      .selectFrom('runs')
      .select('command')
      .distinct()
      .where('account', '=', account)
      .where('started_at', '<', cutoff)
      .execute();
    let deleted = 0;
    for (const { command } of commands) {
      const latest = this.db
        .selectFrom('runs')
        .select('id')
        .where('account', '=', account)
        .where('command', '=', command)
        .orderBy('started_at', 'desc')
        .limit(keepLatest);
      const r = await this.db
        .deleteFrom('runs')
        .where('account', '=', account)
        .where('command', '=', command)
        .where('started_at', '<', cutoff)
        .where('id', 'not in', latest)
        .executeTakeFirst();
      deleted += Number(r.numDeletedRows);
    }
    return deleted;
  }

  /** The account's latest runs, newest first. */
  async last(account: string, limit = 5): Promise<RunRecord[]> {
    const rows = await this.db
      .selectFrom('runs')
      .selectAll()
      .where('account', '=', account)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      command: r.command,
      account: r.account,
      startedAt: r.started_at,
      endedAt: r.ended_at,
      outcome: r.outcome,
      exitCode: r.exit_code,
      summary: r.summary,
    }));
  }
}
