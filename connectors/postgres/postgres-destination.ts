import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { StoreError, SyncError } from '../../src/errors.js';
import { redact } from '../../src/log/redact.js';
import { type ColumnSpec, loadMetadataColumns, type StreamSchema } from '../../src/model/stream-schema.js';
import type { TypedRow } from '../../src/parse/row-typer.js';
import type { TypedBatch } from '../../src/parse/typed-batch.js';
import {
  type Destination,
  type DestinationCapabilities,
  type ExistingRowsAccount,
  type LoadConstant,
  type LoadJob,
  type LoadResult,
  loadConstants,
} from '../../src/ports/destination.js';
import type { DatasetName } from '../../src/ports/lineage.js';
import { createSqlPool, type SqlClient, type SqlPool } from '../../src/state/sql-pool.js';
import { binaryCopyHeader, binaryCopyTrailer, CopyBinaryWriter } from './copy-binary.js';
import { CopyCsvWriter } from './copy-csv.js';
import { feedCopy } from './copy-stream.js';
import type { PostgresDestinationOptions } from './postgres-config.js';
import { postgresDataset } from './postgres-dataset.js';
import {
  accountIndexName,
  accountIndexStatement,
  addAccountColumnStatements,
  addColumnStatements,
  createSchemaStatement,
  createTableStatements,
  qualified,
  quoteIdent,
  quoteLiteral,
} from './postgres-ddl.js';
import { postgresTypes } from './postgres-types.js';

/**
 * The longest the `_account` migration of an earlier version's table waits for its lock: past
 * it, the load fails (retryable) rather than make every reader queue behind the migration.
 */
const lockTimeoutMs = 5_000;

/** Rows per INSERT when COPY is not available (PostgreSQL allows 65535 parameters). */
const insertBatchParams = 5_000;

/**
 * PostgreSQL destination: one typed, commented table per stream holding every account's rows,
 * indexed on the event time and on (`_account`, event time). A load is one transaction: delete
 * the account's rows of the window, COPY the rows straight into the table, and (same database)
 * commit the state. No staging table: writing the table directly inside the transaction gives
 * readers the same atomicity with half the work.
 */
export class PostgresDestination implements Destination {
  readonly name = 'postgres';
  readonly capabilities: DestinationCapabilities;
  private readonly pool: SqlPool;

  constructor(private readonly options: PostgresDestinationOptions) {
    this.pool =
      typeof options.url === 'string' ? createSqlPool(options.url, options.maxConnections ?? 4) : options.url;
    this.capabilities = {
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
      await this.tryCreateSchema(client);
      return `schema ${this.options.schema} ${row.schema_exists ? 'writable' : 'can be created'}`;
    } finally {
      client.release();
    }
  }

  /** Runs what `ensureTable` runs first, in a transaction rolled back: the server refuses it here or not at all. */
  private async tryCreateSchema(client: SqlClient): Promise<void> {
    await client.query('begin');
    try {
      await client.query(createSchemaStatement(this.options.schema));
    } catch (err) {
      // PostgreSQL's DETAIL says why: `The prefix "pg_" is reserved for system schemas.`
      const { message, detail } = err as { message?: unknown; detail?: unknown };
      const why = `${String(message ?? err)}${typeof detail === 'string' ? `. ${detail}` : ''}`;
      throw new StoreError(
        `migrate and sync cannot create schema ${this.options.schema} (destination.schema): ${redact(why)}`,
        { cause: err },
      );
    } finally {
      await client.query('rollback');
    }
  }

  /**
   * A missing table is created whole (columns, comments, both indexes) in one transaction. An
   * existing one is left alone unless it needs something: columns added by drift, or, for a
   * table of an earlier version, `_account` (its own short transaction: a catalog-only change
   * that waits at most `lockTimeoutMs` for readers, so it never queues them behind it) and then
   * its index, built concurrently. Nothing takes a lock on a table that is up to date, so one
   * account's load never waits for another's.
   */
  async ensureTable(
    schema: StreamSchema,
    added: readonly ColumnSpec[],
    existingRowsAccount: ExistingRowsAccount,
  ): Promise<void> {
    const table = qualified(this.options.schema, schema.name);
    try {
      const found = await this.tableState(table, accountIndexName(this.options.schema, schema));
      // Asked before any DDL transaction: the answer comes from the state store, which may be
      // this very database (the embedded one serves one session at a time). An empty table's
      // rows need no account.
      const rowsAccount =
        found.exists && !found.hasAccount ? (found.hasRows ? await existingRowsAccount() : '') : undefined;
      if (!found.exists || rowsAccount !== undefined || added.length) {
        await this.ddl(async (client) => {
          if (!found.exists)
            for (const stmt of createTableStatements(this.options.schema, schema)) await client.query(stmt);
          if (rowsAccount !== undefined) {
            await client.query(`set local lock_timeout = ${Number(lockTimeoutMs)}`);
            for (const stmt of addAccountColumnStatements(this.options.schema, schema, rowsAccount))
              await client.query(stmt);
          }
          for (const stmt of addColumnStatements(this.options.schema, schema, added))
            await client.query(stmt);
        });
      }
      if (found.exists && found.accountIndex !== 'valid') await this.buildAccountIndex(schema);
    } catch (err) {
      if (err instanceof SyncError && !(err instanceof StoreError)) throw err;
      throw StoreError.wrap(`cannot create or update table ${this.options.schema}.${schema.name}`, err);
    }
  }

  /** Runs `fn` in one transaction holding the schema's DDL lock (concurrent processes serialise). */
  private async ddl(fn: (client: SqlClient) => Promise<void>): Promise<void> {
    const client = await this.connect();
    try {
      await client.query('begin');
      await client.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `cxone-od-sync:ddl:${this.options.schema}`,
      ]);
      await fn(client);
      await client.query('commit');
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /** Whether the table exists, has `_account` and rows, and the state of its account index. */
  private async tableState(
    table: string,
    index: string,
  ): Promise<{
    exists: boolean;
    hasAccount: boolean;
    hasRows: boolean;
    accountIndex: 'valid' | 'invalid' | 'missing';
  }> {
    const client = await this.connect();
    try {
      const r = await client.query(
        `select to_regclass($1) is not null as exists,
                exists (select 1 from pg_attribute where attrelid = to_regclass($1)
                         and attname = '_account' and not attisdropped) as has_account,
                (select indisvalid from pg_index where indexrelid = to_regclass($2)) as index_valid`,
        [table, index],
      );
      const row = r.rows[0] as { exists: boolean; has_account: boolean; index_valid: boolean | null };
      const hasRows =
        row.exists && !row.has_account
          ? (
              (await client.query(`select exists (select 1 from ${table}) as any`)).rows[0] as {
                any: boolean;
              }
            ).any
          : false;
      return {
        exists: row.exists,
        hasAccount: row.has_account,
        hasRows,
        accountIndex: row.index_valid === null ? 'missing' : row.index_valid ? 'valid' : 'invalid',
      };
    } finally {
      client.release();
    }
  }

  /**
   * The (`_account`, event time) index of a table that already holds rows, built concurrently
   * (readers and loads go on); one process builds it at a time, an invalid one left by a build
   * that died is dropped and built again. A server that cannot build concurrently (the
   * embedded one) builds it the plain way.
   */
  private async buildAccountIndex(schema: StreamSchema): Promise<void> {
    const client = await this.connect();
    const lock = `cxone-od-sync:index:${this.options.schema}.${schema.name}`;
    try {
      const got = await client.query('select pg_try_advisory_lock(hashtextextended($1, 0)) as got', [lock]);
      if (!(got.rows[0] as { got: boolean }).got) return; // another process is building it
      try {
        const name = accountIndexName(this.options.schema, schema);
        const state = await client.query(
          'select indisvalid from pg_index where indexrelid = to_regclass($1)',
          [name],
        );
        if ((state.rows[0] as { indisvalid?: boolean } | undefined)?.indisvalid) return;
        if (state.rows.length) await client.query(`drop index concurrently if exists ${name}`);
        await client
          .query(accountIndexStatement(this.options.schema, schema, true))
          .catch(() => client.query(accountIndexStatement(this.options.schema, schema, false)));
      } finally {
        await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [lock]);
      }
    } finally {
      client.release();
    }
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
        `cxone-od-sync:load:${this.options.schema}.${job.schema.name}:${job.account}`,
      ]);
      const del = await client.query(
        `delete from ${table} where ${quoteIdent('_account')} = $3 and ${evt} >= $1 and ${evt} < $2`,
        [job.window.start, job.window.end, job.account],
      );
      const loaded = job.batches
        ? await copyBatches(client, table, colList, job, meta)
        : await insertRows(client, table, colList, cols.length, job.rows, meta);
      await job.beforeCommit(loaded);
      // The state store in this database: its commit joins the data's transaction.
      if (this.options.sharesStateDatabase) await job.commit(client);
      await client.query('commit');
      if (!this.options.sharesStateDatabase) await job.commit();
      return { rows: loaded, replaced: del.rowCount ?? 0 };
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  datasetFor(schema: StreamSchema): DatasetName {
    const url = typeof this.options.url === 'string' ? this.options.url : undefined;
    return postgresDataset(url, this.options.schema, schema.name);
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
