import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import {
  type Destination,
  type DestinationCapabilities,
  type LoadConstant,
  type LoadJob,
  type LoadResult,
  loadConstants,
} from '../../src/engine/destination.js';
import { StoreError } from '../../src/errors.js';
import { type ColumnSpec, loadMetadataColumns, type StreamSchema } from '../../src/model/stream-schema.js';
import type { TypedRow } from '../../src/parse/row-typer.js';
import type { TypedBatch } from '../../src/parse/typed-batch.js';
import { createSqlPool, type SqlClient, type SqlPool } from '../../src/state/sql-pool.js';
import { binaryCopyHeader, binaryCopyTrailer, CopyBinaryWriter } from './copy-binary.js';
import { CopyCsvWriter } from './copy-csv.js';
import { feedCopy } from './copy-stream.js';
import type { PostgresDestinationOptions } from './postgres-config.js';
import {
  addColumnStatements,
  createTableStatements,
  qualified,
  quoteIdent,
  quoteLiteral,
} from './postgres-ddl.js';
import { postgresTypes } from './postgres-types.js';

/** Rows per INSERT when COPY is not available (PostgreSQL allows 65535 parameters). */
const insertBatchParams = 5_000;

/**
 * PostgreSQL destination (SPEC section 8): one typed, commented table per stream, indexed on the
 * event time. A load is one transaction: delete the window, COPY the rows straight into the
 * table, and (same database) commit the state. SPEC section 8 names a staging table; writing
 * the table directly inside the transaction gives readers the same atomicity with half the work.
 */
export class PostgresDestination implements Destination {
  readonly name = 'postgres';
  readonly capabilities: DestinationCapabilities;
  private readonly pool: SqlPool;

  constructor(private readonly options: PostgresDestinationOptions) {
    this.pool = typeof options.url === 'string' ? createSqlPool(options.url, 4) : options.url;
    this.capabilities = {
      transactionalState: options.sharesStateDatabase,
      // COPY needs node-postgres' own client: a pool passed in (embedded PGlite) never copies.
      copy: (options.copy ?? true) && typeof options.url === 'string',
    };
  }

  async check(_streams: readonly StreamSchema[]): Promise<string> {
    const client = await this.connect();
    try {
      const r = await client.query(
        `select has_database_privilege(current_database(), 'CREATE') as can_create,
                exists(select 1 from pg_namespace where nspname = $1) as schema_exists,
                case when exists(select 1 from pg_namespace where nspname = $1)
                     then has_schema_privilege($1, 'CREATE') end as can_use`,
        [this.options.schema],
      );
      const row = r.rows[0] as { can_create: boolean; schema_exists: boolean; can_use: boolean | null };
      if (row.schema_exists ? row.can_use === false : !row.can_create) {
        throw new StoreError(
          `the destination user cannot create tables in schema ${this.options.schema} (destination.schema); grant CREATE on it`,
        );
      }
      return `schema ${this.options.schema} ${row.schema_exists ? 'writable' : 'can be created'}`;
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
      throw StoreError.wrap(`cannot create table ${this.options.schema}.${schema.name}`, err);
    } finally {
      client.release();
    }
  }

  async ensureTable(schema: StreamSchema): Promise<void> {
    const client = await this.connect();
    let exists: boolean;
    try {
      const r = await client.query('select to_regclass($1) is not null as found', [
        qualified(this.options.schema, schema.name),
      ]);
      exists = (r.rows[0] as { found: boolean }).found;
    } catch (err) {
      throw StoreError.wrap(`cannot read table ${this.options.schema}.${schema.name}`, err);
    } finally {
      client.release();
    }
    if (!exists) await this.prepare(schema, []);
  }

  async load(job: LoadJob): Promise<LoadResult> {
    const table = qualified(this.options.schema, job.schema.name);
    const cols = [...job.columns, ...loadMetadataColumns].map((c) => c.name);
    const colList = cols.map(quoteIdent).join(', ');
    const evt = quoteIdent(job.schema.eventTime);
    const meta = loadConstants(job);
    const client = await this.connect();
    try {
      // One transaction: the window's old rows go, the new rows stream straight into the table,
      // the state commits; readers see the old window until COMMIT, then the new one (MVCC).
      await client.query('begin');
      await client.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `cxone-od-sync:load:${this.options.schema}.${job.schema.name}`,
      ]);
      const del = await client.query(`delete from ${table} where ${evt} >= $1 and ${evt} < $2`, [
        job.window.start,
        job.window.end,
      ]);
      const loaded = job.batches
        ? await copyBatches(client, table, colList, job, meta)
        : await insertRows(client, table, colList, cols.length, job.rows, meta);
      const statements = await job.beforeCommit(loaded);
      if (this.capabilities.transactionalState) {
        for (const q of statements) await client.query(q.sql, q.parameters);
      }
      await client.query('commit');
      return { rows: loaded, replaced: del.rowCount ?? 0 };
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

  private async connect(): Promise<SqlClient> {
    try {
      const client = await this.pool.connect();
      // A server that drops the connection mid-load reports it on the query too; without a
      // listener the 'error' event would end the process.
      if (client instanceof pg.Client && client.listenerCount('error') === 0) client.on('error', () => {});
      return client;
    } catch (err) {
      throw StoreError.wrap('cannot reach the destination database (destination.url)', err);
    }
  }
}

/**
 * Streams the batches through COPY: in PostgreSQL's binary format when the table's columns have
 * exactly the types this connector creates (the server then parses nothing), else as CSV.
 */
async function copyBatches(
  client: SqlClient,
  table: string,
  colList: string,
  job: Extract<LoadJob, { batches: AsyncIterable<TypedBatch> }>,
  meta: readonly LoadConstant[],
): Promise<number> {
  const typesNow = await client.query(
    `select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
      where attrelid = $1::regclass and attnum > 0 and not attisdropped`,
    [table],
  );
  const actual = new Map((typesNow.rows as { name: string; type: string }[]).map((r) => [r.name, r.type]));
  const binary = [...job.columns, ...loadMetadataColumns].every(
    (c) => actual.get(c.name) === postgresTypes[c.type],
  );
  const options = binary ? 'format binary' : `format csv, delimiter ${quoteLiteral(job.delimiter)}`;
  // COPY needs node-postgres' own client (pg-copy-streams).
  const copy = (client as unknown as pg.PoolClient).query(
    copyFrom(`copy ${table} (${colList}) from stdin with (${options})`),
  );
  return binary
    ? feedCopy(copy, new CopyBinaryWriter(meta), job.batches, {
        header: binaryCopyHeader(),
        trailer: binaryCopyTrailer(),
      })
    : feedCopy(copy, new CopyCsvWriter(job.delimiter, meta), job.batches);
}

async function insertRows(
  client: SqlClient,
  table: string,
  colList: string,
  width: number,
  rows: AsyncIterable<readonly TypedRow[]>,
  meta: readonly LoadConstant[],
): Promise<number> {
  const constants = meta.map((c) => c.value);
  const perBatch = Math.max(1, Math.floor(insertBatchParams / width));
  let loaded = 0;
  let params: unknown[] = [];
  let tuples: string[] = [];
  const flush = async () => {
    if (tuples.length === 0) return;
    await client.query(`insert into ${table} (${colList}) values ${tuples.join(', ')}`, params);
    params = [];
    tuples = [];
  };
  for await (const batch of rows) {
    for (const row of batch) {
      const base = params.length;
      tuples.push(`(${Array.from({ length: width }, (_, i) => `$${base + i + 1}`).join(', ')})`);
      params.push(...row.values, row.line, ...constants);
      loaded++;
      if (tuples.length >= perBatch) await flush();
    }
  }
  await flush();
  return loaded;
}
