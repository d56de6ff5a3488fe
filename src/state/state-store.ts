import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import { stateMigrations } from '../../migrations/index.js';
import { StoreError } from '../errors.js';
import type { StatePorts } from '../ports/state-ports.js';
import { ExportLedger } from './export-ledger.js';
import { QuotaLedger } from './quota-ledger.js';
import { RunLog } from './run-log.js';
import { asKyselyPool, createSqlPool, isUniqueViolation, type SqlPool, withStoreErrors } from './sql-pool.js';
import { stateSchema } from './state-constants.js';
import type { StateDatabase } from './state-tables.js';
import { StreamBackoffs } from './stream-backoffs.js';
import { StreamSchedule } from './stream-schedule.js';
import { WatermarkStore } from './watermark-store.js';

/** How a state-store statement that lost its database begins (the setting that names it). */
const stateStoreLost =
  'the state store cannot be reached or dropped the connection (state.url, or destination.url when state.url is not set; run again once it is back)';

/**
 * The state store: the PostgreSQL implementation of the engine's state ports (`StatePorts`), in
 * the schema `cxone_od_sync`, through kysely; its row types never leave `src/state`. It is the
 * coordination point of every process that shares an account: quota slots are reserved under a
 * transaction-scoped advisory lock, and at most one unfinished export exists per stream window.
 *
 * It owns the connection and the migrations; each concern is a part over the same connection:
 * `quota`, `exports` (the ledger and its claims), `watermarks` (with gaps and the load commit),
 * `runs`, `schedule` and `backoffs`.
 */
export class StateStore implements StatePorts {
  /** The rolling 24-hour quota, and the reservation of a new export under it. */
  readonly quota: QuotaLedger;
  /** The export ledger: one row per export, and the claims that say which process drives it. */
  readonly exports: ExportLedger;
  /** Watermarks, gaps, and the statements that commit a load. */
  readonly watermarks: WatermarkStore;
  /** The log of command runs. */
  readonly runs: RunLog;
  /** Each stream's next due time, for the freshness view. */
  readonly schedule: StreamSchedule;
  /** Streams the API refuses, or whose exports fail at the vendor, backed off on their own. */
  readonly backoffs: StreamBackoffs;
  private readonly db: Kysely<StateDatabase>;

  /**
   * A PostgreSQL URL, or a pool (embedded PGlite for `demo`); `maxConnections` bounds the pool
   * made from a URL (its statements are short: two serve a sync's four exports in parallel).
   * Every statement of every part goes through one pool, so a database that cannot be reached or
   * a connection lost (refused, reset, shut down) is told there, once: a `StoreError`
   * (retryable) naming the setting, never the driver's bare error.
   */
  constructor(target: string | SqlPool, maxConnections = 2) {
    const pool = withStoreErrors(
      typeof target === 'string' ? createSqlPool(target, maxConnections) : target,
      stateStoreLost,
    );
    this.db = new Kysely<StateDatabase>({
      dialect: new PostgresDialect({ pool: asKyselyPool(pool) }),
    }).withSchema(stateSchema);
    this.quota = new QuotaLedger(this.db);
    this.exports = new ExportLedger(this.db);
    this.watermarks = new WatermarkStore(this.db);
    this.runs = new RunLog(this.db);
    this.schedule = new StreamSchedule(this.db);
    this.backoffs = new StreamBackoffs(this.db);
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

  /** Fails with a StoreError naming the setting to check when the database cannot be reached. */
  async ping(): Promise<void> {
    try {
      await sql`select 1`.execute(this.db);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw StoreError.wrap(
        'cannot reach the state store (state.url, or destination.url when state.url is not set)',
        err,
      );
    }
  }

  /** Ends the pool (a pool passed in included: kysely ends what it was given). */
  async close(): Promise<void> {
    await this.db.destroy();
  }
}
