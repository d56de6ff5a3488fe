import type { PGlite } from '@electric-sql/pglite';
import type { SqlClient, SqlPool } from '../../src/state/sql-pool.js';

/**
 * A pool over one embedded PGlite database, for `demo` and for tests on machines without a
 * PostgreSQL server. PGlite is a single session, so the pool hands out one client at a time
 * (a mutex): transactions never interleave. COPY FROM STDIN is not available; the destination
 * declares `copy: false` and inserts in batches.
 */
export class PglitePool implements SqlPool {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly db: PGlite) {}

  async connect(): Promise<SqlClient> {
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const previous = this.tail;
    this.tail = previous.then(() => held);
    await previous;
    let released = false;
    return {
      query: async (sql, params) => {
        const r = await this.db.query(sql, params ? [...params] : []);
        const command = sql.trimStart().split(/\s/, 1)[0]!.toUpperCase();
        return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length, command };
      },
      release: () => {
        if (!released) {
          released = true;
          release();
        }
      },
    };
  }

  async end(): Promise<void> {
    // The PGlite instance belongs to whoever created it.
  }
}
