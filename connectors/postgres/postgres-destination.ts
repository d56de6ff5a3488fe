import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type {
  Destination,
  DestinationCapabilities,
  LoadJob,
  LoadResult,
} from '../../src/engine/destination.js';
import type { ColumnSpec, StreamSchema } from '../../src/engine/stream-schema.js';
import { StoreError } from '../../src/errors.js';
import { redact } from '../../src/log/redact.js';
import { copyTextLine } from './copy-text.js';
import { addColumnStatements, createTableStatements, qualified, quoteIdent } from './postgres-ddl.js';

export interface PostgresDestinationOptions {
  readonly url: string;
  readonly schema: string;
  /** True when the state store lives in the same database: state commits with the data. */
  readonly sharesStateDatabase: boolean;
}

/**
 * PostgreSQL destination (SPEC section 8): one typed, commented table per stream, indexed on the
 * event time. A load streams rows through COPY into a temporary staging table, then in one
 * transaction deletes the window, inserts the staged rows and (same database) commits the state.
 */
export class PostgresDestination implements Destination {
  readonly name = 'postgres';
  readonly capabilities: DestinationCapabilities;
  private readonly pool: pg.Pool;

  constructor(private readonly options: PostgresDestinationOptions) {
    this.pool = new pg.Pool({ connectionString: options.url, max: 4 });
    this.pool.on('error', () => {
      // idle client errors (server restart): the next query reports them
    });
    this.capabilities = { transactionalState: options.sharesStateDatabase, windowReplace: true, copy: true };
  }

  async check(): Promise<void> {
    const client = await this.connect();
    try {
      const r = await client.query<{ can_create: boolean; schema_exists: boolean; can_use: boolean | null }>(
        `select has_database_privilege(current_database(), 'CREATE') as can_create,
                exists(select 1 from pg_namespace where nspname = $1) as schema_exists,
                case when exists(select 1 from pg_namespace where nspname = $1)
                     then has_schema_privilege($1, 'CREATE') end as can_use`,
        [this.options.schema],
      );
      const row = r.rows[0]!;
      if (row.schema_exists ? row.can_use === false : !row.can_create) {
        throw new StoreError(
          `the destination user cannot create tables in schema ${this.options.schema} (destination.schema); grant CREATE on it`,
        );
      }
    } finally {
      client.release();
    }
  }

  async prepare(schema: StreamSchema, added: readonly ColumnSpec[]): Promise<void> {
    const client = await this.connect();
    try {
      await client.query('begin');
      // Serialise DDL of concurrent processes on one table.
      await client.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `cxone-od-sync:ddl:${this.options.schema}`,
      ]);
      for (const stmt of [
        ...createTableStatements(this.options.schema, schema),
        ...addColumnStatements(this.options.schema, schema, added),
      ]) {
        await client.query(stmt);
      }
      await client.query('commit');
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw this.error(`cannot create table ${this.options.schema}.${schema.name}`, err);
    } finally {
      client.release();
    }
  }

  async load(job: LoadJob): Promise<LoadResult> {
    const table = qualified(this.options.schema, job.schema.name);
    const staging = quoteIdent(`stg_${job.schema.name}`);
    const cols = [...job.columns.map((c) => c.name), '_source_line'];
    const colList = cols.map(quoteIdent).join(', ');
    const evt = quoteIdent(job.schema.eventTime);
    const client = await this.connect();
    try {
      await client.query('begin');
      await client.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `cxone-od-sync:load:${this.options.schema}.${job.schema.name}`,
      ]);
      // Same column types as the target, without its constraints (the metadata columns come later).
      await client.query(
        `create temp table ${staging} on commit drop as select * from ${table} with no data`,
      );
      let staged = 0;
      async function* lines() {
        let batch = '';
        for await (const row of job.rows) {
          batch += copyTextLine(row.values, [row.line]);
          staged++;
          if (batch.length >= 65_536) {
            yield batch;
            batch = '';
          }
        }
        if (batch) yield batch;
      }
      await pipeline(
        Readable.from(lines()),
        client.query(copyFrom(`copy ${staging} (${colList}) from stdin`)),
      );
      const statements = await job.beforeCommit(staged);
      const del = await client.query(`delete from ${table} where ${evt} >= $1 and ${evt} < $2`, [
        job.window.start,
        job.window.end,
      ]);
      const ins = await client.query(
        `insert into ${table} (${colList}, "_export_id", "_window_start", "_window_end", "_loaded_at")
         select ${colList}, $1, $2, $3, $4 from ${staging}`,
        [job.exportKey, job.window.start, job.window.end, job.loadedAt],
      );
      if (this.capabilities.transactionalState) {
        for (const q of statements) await client.query(q.sql, q.parameters as unknown[]);
      }
      await client.query('commit');
      return { rows: ins.rowCount ?? staged, replaced: del.rowCount ?? 0 };
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw this.error('cannot reach the destination database (destination.url)', err);
    }
  }

  private error(what: string, err: unknown): StoreError {
    return new StoreError(`${what}: ${redact((err as Error).message ?? String(err))}`, { cause: err });
  }
}
