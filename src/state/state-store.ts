import { hostname } from 'node:os';
import { type CompiledQuery, Kysely, Migrator, PostgresDialect, sql, type Transaction } from 'kysely';
import { stateMigrations } from '../../migrations/index.js';
import { QuotaExhaustedError, StoreError } from '../errors.js';
import { redact } from '../log/redact.js';
import { asKyselyPool, createSqlPool, isUniqueViolation, type SqlPool } from './sql-pool.js';
import {
  type ExportPatch,
  type ExportRow,
  type GapRow,
  type NewExport,
  type StateDatabase,
  unfinishedStatuses,
} from './state-tables.js';

export const stateSchema = 'cxone_od_sync';
const dayMs = 86_400_000;

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

export interface RejectedRowInput {
  readonly line: number;
  readonly raw: string;
  readonly reason: string;
}

/** What one process calls itself when it claims an export: host, pid and a random part. */
export function processOwner(): string {
  return `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
}

function ownerIsDeadLocally(owner: string): boolean {
  const [host, pid] = owner.split(':');
  if (host !== hostname() || !pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * The state store (SPEC section 8): PostgreSQL schema `cxone_od_sync`, through kysely. It is the
 * coordination point of every process that shares an account: quota slots are reserved under a
 * transaction-scoped advisory lock, and at most one unfinished export exists per stream window.
 */
export class StateStore {
  readonly db: Kysely<StateDatabase>;
  /** A PostgreSQL URL, or a pool (embedded PGlite for `demo`). */
  constructor(target: string | SqlPool) {
    const pool = typeof target === 'string' ? createSqlPool(target, 4) : target;
    this.db = new Kysely<StateDatabase>({
      dialect: new PostgresDialect({ pool: asKyselyPool(pool) }),
    }).withSchema(stateSchema);
  }

  /** Creates the schema and applies pending migrations (kysely Migrator, which locks). */
  async migrate(): Promise<string[]> {
    try {
      await this.db.executeQuery(sql`create schema if not exists ${sql.id(stateSchema)}`.compile(this.db));
    } catch (err) {
      // Two processes creating the schema at once: the loser sees a unique violation.
      if (!isUniqueViolation(err)) throw StoreError.wrap('cannot create the state schema', err);
    }
    const migrator = new Migrator({
      db: this.db,
      provider: { getMigrations: async () => stateMigrations },
      migrationTableSchema: stateSchema,
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error) throw StoreError.wrap('state-store migration failed', error);
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }

  async ping(): Promise<void> {
    try {
      await sql`select 1`.execute(this.db);
    } catch (err) {
      throw StoreError.wrap(
        'cannot reach the state store (state.url, or destination.url when state.url is not set)',
        err,
      );
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  // ---- quota -------------------------------------------------------------------------------

  async quota(
    account: string,
    limit: number,
    now: Date,
    db: Kysely<StateDatabase> | Transaction<StateDatabase> = this.db,
  ): Promise<QuotaView> {
    const since = new Date(now.getTime() - dayMs);
    const rows = await db
      .selectFrom('exports')
      .select('reserved_at')
      .where('account', '=', account)
      .where('counts_quota', '=', true)
      .where('reserved_at', '>', since)
      .orderBy('reserved_at', 'asc')
      .execute();
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
      nextSlotAt = new Date(freeing.reserved_at.getTime() + dayMs);
    }
    return { limit, used, nextSlotAt, blockedUntil, oldestAt: rows[0]?.reserved_at ?? null };
  }

  /**
   * Reserves a quota slot and writes the ledger row before the request is sent, atomically: a
   * transaction holding the account's advisory lock counts the rolling 24 hours and inserts.
   * Returns null when the stream already has an unfinished export (another process has it).
   * Throws QuotaExhaustedError when no slot is free or the vendor's quota error is in force.
   */
  async reserveExport(
    row: Omit<NewExport, 'status' | 'reserved_at' | 'updated_at'>,
    limit: number,
    now: Date,
    owner: string,
  ): Promise<ExportRow | null> {
    return this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtextextended(${`cxone-od-sync:quota:${row.account}`}, 0))`.execute(
        trx,
      );
      const q = await this.quota(row.account, limit, now, trx);
      if (q.blockedUntil) {
        throw new QuotaExhaustedError(
          q.blockedUntil,
          `the API reported its export quota used up; nothing is requested before ${q.blockedUntil.toISOString()}`,
        );
      }
      if (q.used >= limit) throw new QuotaExhaustedError(q.nextSlotAt);
      const open = await trx
        .selectFrom('exports')
        .select('id')
        .where('account', '=', row.account)
        .where('stream', '=', row.stream)
        .where('status', 'in', unfinishedStatuses)
        .executeTakeFirst();
      if (open) return null;
      return trx
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
    });
  }

  /** Records the vendor's quota error: no request is sent for this account before `until`. */
  async recordQuotaBlock(account: string, until: Date, reason: string, now: Date): Promise<void> {
    await this.db
      .insertInto('quota_blocks')
      .values({ account, blocked_until: until, reason, recorded_at: now })
      .onConflict((oc) =>
        oc.column('account').doUpdateSet({ blocked_until: until, reason, recorded_at: now }),
      )
      .execute();
  }

  // ---- ledger ------------------------------------------------------------------------------

  async updateExport(id: string, patch: ExportPatch, now: Date): Promise<ExportRow> {
    return this.db
      .updateTable('exports')
      .set({ ...patch, updated_at: now })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async getExport(id: string): Promise<ExportRow | undefined> {
    return this.db.selectFrom('exports').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findExportByVendorId(vendorId: string): Promise<ExportRow | undefined> {
    return this.db
      .selectFrom('exports')
      .selectAll()
      .where('vendor_export_id', '=', vendorId)
      .executeTakeFirst();
  }

  async unfinishedExports(account: string, streams: readonly string[]): Promise<ExportRow[]> {
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

  /** The latest loaded export of exactly this stream window, if any (an orchestrator's rerun). */
  /** Loaded exports of the account whose archived file is still kept, loaded before `cutoff`. */
  async archivedLoadedBefore(
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
  async recordLocalFile(
    row: Omit<
      NewExport,
      'status' | 'counts_quota' | 'reserved_at' | 'claimed_by' | 'claim_expires_at' | 'updated_at'
    >,
    owner: string,
    now: Date,
  ): Promise<ExportRow> {
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

  async loadedExportFor(
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

  /**
   * Claims an export for this process. A claim held by a live process (or, on another host, not
   * yet expired) is respected; a dead local owner's claim is taken over at once.
   */
  async claim(id: string, owner: string, now: Date): Promise<ExportRow | null> {
    const row = await this.getExport(id);
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

  async renewClaim(id: string, owner: string, now: Date): Promise<void> {
    await this.db
      .updateTable('exports')
      .set({ claim_expires_at: new Date(now.getTime() + claimTtlMs) })
      .where('id', '=', id)
      .where('claimed_by', '=', owner)
      .execute();
  }

  async release(id: string, owner: string): Promise<void> {
    await this.db
      .updateTable('exports')
      .set({ claimed_by: null, claim_expires_at: null })
      .where('id', '=', id)
      .where('claimed_by', '=', owner)
      .execute();
  }

  // ---- watermarks and gaps ----------------------------------------------------------------

  async watermarks(account: string): Promise<Map<string, Date>> {
    const rows = await this.db
      .selectFrom('watermarks')
      .select(['stream', 'watermark'])
      .where('account', '=', account)
      .execute();
    return new Map(rows.map((r) => [r.stream, r.watermark]));
  }

  async setWatermark(account: string, stream: string, watermark: Date | null, now: Date): Promise<void> {
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

  async gaps(account: string): Promise<GapRow[]> {
    return this.db
      .selectFrom('gaps')
      .selectAll()
      .where('account', '=', account)
      .orderBy('gap_start')
      .execute();
  }

  /**
   * The statements that commit a load in the state store: rejected rows, the ledger row marked
   * loaded, and the watermark moved forward when the window is contiguous with it. Compiled, so
   * that a destination sharing the database runs them inside its own data transaction.
   */
  commitLoadQueries(input: {
    exportRow: ExportRow;
    rows: number;
    rejected: readonly RejectedRowInput[];
    now: Date;
    /** Whether this load may move the watermark (a replay of an old export does not move it back). */
    moveWatermark: boolean;
  }): CompiledQuery[] {
    const { exportRow: e, now } = input;
    const queries: CompiledQuery[] = [];
    queries.push(this.db.deleteFrom('rejected_rows').where('export_id', '=', e.id).compile());
    for (let i = 0; i < input.rejected.length; i += 500) {
      const chunk = input.rejected.slice(i, i + 500);
      queries.push(
        this.db
          .insertInto('rejected_rows')
          .values(
            chunk.map((r) => ({
              export_id: e.id,
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
        .set({
          status: 'loaded',
          rows: input.rows,
          rejected_rows: input.rejected.length,
          loaded_at: now,
          updated_at: now,
          error: null,
          retryable: null,
          claimed_by: null,
          claim_expires_at: null,
        })
        .where('id', '=', e.id)
        .compile(),
    );
    if (input.moveWatermark) {
      // Never past the time the export was requested (signpost rule).
      const requested = e.submitted_at ?? e.reserved_at;
      const target = new Date(Math.min(e.window_end.getTime(), requested.getTime()));
      queries.push(
        this.db
          .insertInto('watermarks')
          .values({
            account: e.account,
            stream: e.stream,
            watermark: target,
            export_id: e.id,
            updated_at: now,
          })
          .onConflict((oc) =>
            oc
              .columns(['account', 'stream'])
              .doUpdateSet({ watermark: target, export_id: e.id, updated_at: now })
              .where(sql.ref(`${stateSchema}.watermarks.watermark`), '<', target)
              .where(sql.ref(`${stateSchema}.watermarks.watermark`), '>=', e.window_start),
          )
          .compile(),
      );
    }
    return queries;
  }

  async executeCompiled(queries: readonly CompiledQuery[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (const q of queries) await trx.executeQuery(q);
    });
  }

  // ---- runs --------------------------------------------------------------------------------

  async startRun(command: string, account: string | null, now: Date): Promise<string> {
    const r = await this.db
      .insertInto('runs')
      .values({ command, account, started_at: now, summary: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return r.id;
  }

  async finishRun(id: string, outcome: string, exitCode: number, summary: unknown, now: Date): Promise<void> {
    await this.db
      .updateTable('runs')
      .set({ ended_at: now, outcome, exit_code: exitCode, summary: redact(JSON.stringify(summary)) })
      .where('id', '=', id)
      .execute();
  }

  async lastRuns(account: string, limit = 5) {
    return this.db
      .selectFrom('runs')
      .selectAll()
      .where('account', '=', account)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }
}

/** How long a claim on an export lasts without renewal (a process on another host that died). */
export const claimTtlMs = 10 * 60_000;
