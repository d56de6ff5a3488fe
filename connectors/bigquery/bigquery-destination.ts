import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BigQuery, Dataset, Job } from '@google-cloud/bigquery';
import { retryableStatus, StoreError, SyncError } from '../../src/errors.js';
import { redact } from '../../src/log/redact.js';
import type { ColumnSpec, StreamSchema } from '../../src/model/stream-schema.js';
import type {
  Destination,
  DestinationCapabilities,
  ExistingRowsAccount,
  LoadJob,
  LoadResult,
} from '../../src/ports/destination.js';
import type { DatasetName } from '../../src/ports/lineage.js';
import { pollUntil } from '../../src/retry/poll.js';
import { again, done, withRetry } from '../../src/retry/retry.js';
import { checkDataset } from './bigquery-check.js';
import type { BigQueryDestinationOptions } from './bigquery-config.js';
import {
  fillAccountStatement,
  loadFields,
  loadJobIds,
  missingFields,
  replaceWindowScript,
  stagingTableId,
  tableDefinition,
} from './bigquery-ddl.js';
import { writeNdjson } from './bigquery-ndjson.js';
import type { BigQueryField } from './bigquery-types.js';

/** The label set on a table once the `_account` of its older rows is filled. */
const accountFilledLabel = 'cxone_od_sync_account_filled';
/** Staging tables disappear on their own a day after a crashed load. */
const stagingTtlMs = 24 * 3_600_000;

/** The error shape of Google's client library. */
interface GoogleApiError extends Error {
  code?: number | string;
  errors?: { reason?: string; message?: string }[];
  response?: { jobReference?: { jobId?: string } };
}

interface JobStatus {
  state?: string;
  errorResult?: { reason?: string; message?: string; location?: string };
  errors?: { reason?: string; message?: string; location?: string }[];
}

/**
 * BigQuery destination. A load writes the rows as NDJSON to a temporary file, loads it with a
 * job of deterministic id into a staging table of its own (WRITE_TRUNCATE, so a rerun never
 * adds), then runs one multi-statement transaction that deletes the window and inserts the
 * staged rows. BigQuery cannot share a transaction with the state store, so the load's state
 * commits after that transaction (`job.commit()`); a crash in between reloads the export, and
 * the replace gives the same table again.
 */
export class BigQueryDestination implements Destination {
  readonly name = 'bigquery';
  readonly capabilities: DestinationCapabilities = {
    copy: false,
  };
  private api?: Promise<{ bq: BigQuery; dataset: Dataset }>;
  private datasetReady = false;
  private readonly tablesReady = new Map<string, Set<string>>();

  constructor(private readonly options: BigQueryDestinationOptions) {}

  /** The client library, loaded on first use: PostgreSQL-only runs never pay for it. */
  private client(): Promise<{ bq: BigQuery; dataset: Dataset }> {
    this.api ??= import('@google-cloud/bigquery').then(({ BigQuery }) => {
      const o = this.options;
      const bq = new BigQuery({
        projectId: o.projectId,
        location: o.location,
        ...(o.keyFile ? { keyFilename: o.keyFile } : {}),
        ...(o.apiEndpoint ? { apiEndpoint: o.apiEndpoint } : {}),
        ...(o.authClient ? { authClient: o.authClient } : {}),
      });
      return { bq, dataset: bq.dataset(o.dataset, { location: o.location }) };
    });
    return this.api;
  }

  private get datasetName(): string {
    return `${this.options.projectId}.${this.options.dataset}`;
  }

  async check(streams: readonly StreamSchema[]): Promise<string> {
    return checkDataset(await this.client(), this.options, streams, (what, err) => this.error(what, err));
  }

  async ensureTable(
    schema: StreamSchema,
    added: readonly ColumnSpec[],
    existingRowsAccount: ExistingRowsAccount,
  ): Promise<void> {
    const { bq, dataset } = await this.client();
    await this.ensureDataset();
    const known = this.tablesReady.get(schema.name);
    if (known && added.every((c) => known.has(c.name))) return;
    const def = tableDefinition(schema, added);
    const table = dataset.table(schema.name);
    try {
      const [found] = await table.exists();
      if (!found) {
        try {
          await dataset.createTable(schema.name, { ...def, location: this.options.location });
        } catch (err) {
          if ((err as GoogleApiError).code !== 409) throw err;
        }
      }
      const [meta] = await table.getMetadata();
      const fields = (meta.schema?.fields ?? []) as BigQueryField[];
      const add = missingFields(fields, def.schema.fields).map((f) => ({ ...f, mode: 'NULLABLE' as const }));
      const addsAccount = add.some((f) => f.name === '_account');
      // A table of an earlier version gains `_account` as a NULLABLE column (BigQuery adds no
      // REQUIRED one), its rows filled by one UPDATE; the label says the fill is done, so a
      // fill that did not finish (a process killed, a refused lookup) is done by the next run.
      const needsFill =
        (addsAccount || fields.some((f) => f.name === '_account' && f.mode === 'NULLABLE')) &&
        meta.labels?.[accountFilledLabel] !== 'true';
      // An empty table's fill changes no row, so its account need not be known.
      const hasRows = Number(meta.numRows ?? 0) > 0;
      const accountToFill = needsFill ? (hasRows ? await existingRowsAccount() : '') : undefined;
      if (add.length) {
        // BigQuery adds columns by patching the whole field list; the etag makes a concurrent
        // change fail instead of being overwritten. A table made before `_account` is
        // clustered by it from now on (BigQuery applies it to data written from then).
        await table.setMetadata({
          schema: { fields: [...fields, ...add] },
          ...(addsAccount ? { clustering: def.clustering } : {}),
          etag: meta.etag,
        });
      }
      if (accountToFill !== undefined) {
        const o = this.options;
        const [fill] = await bq.createQueryJob({
          query: fillAccountStatement(o.projectId, o.dataset, schema.name, accountToFill),
          location: o.location,
          useLegacySql: false,
        });
        await this.waitForJob(fill, `the _account fill of ${this.datasetName}.${schema.name}`);
        const [now] = await table.getMetadata();
        await table.setMetadata({ labels: { ...now.labels, [accountFilledLabel]: 'true' }, etag: now.etag });
      }
      this.tablesReady.set(schema.name, new Set([...fields, ...add].map((f) => f.name)));
    } catch (err) {
      if (err instanceof SyncError && !(err instanceof StoreError)) throw err;
      throw this.error(`cannot create or update table ${this.datasetName}.${schema.name}`, err);
    }
  }

  async load(job: LoadJob): Promise<LoadResult> {
    const { bq, dataset } = await this.client();
    const ids = loadJobIds(this.options.dataset, job.schema, job.account, job.exportKey, job.loadedAt);
    const stagingId = stagingTableId(job.schema, job.account, job.exportKey);
    const stagingFields = loadFields(job.schema, job.columns);
    const columns = stagingFields.map((f) => f.name);
    const dir = await mkdtemp(join(tmpdir(), 'cxone-od-sync-bq-'));
    try {
      const file = join(dir, `${stagingId}.ndjson`);
      const staged = await writeNdjson(file, job, columns);
      // The ratio of rejected rows is known now: abandon before spending a load job.
      await job.beforeCommit(staged);

      const staging = dataset.table(stagingId);
      try {
        await dataset.createTable(stagingId, {
          schema: { fields: stagingFields },
          expirationTime: String(job.loadedAt.getTime() + stagingTtlMs),
          description: `cxone-od-sync staging for export ${job.exportKey}; dropped after the load`,
          location: this.options.location,
        });
      } catch (err) {
        if ((err as GoogleApiError).code !== 409)
          throw this.error(`cannot create staging table ${stagingId}`, err);
      }
      const loadJob = await this.insertJob(ids.load, async () => {
        const [j] = await staging.createLoadJob(file, {
          jobId: ids.load,
          sourceFormat: 'NEWLINE_DELIMITED_JSON',
          writeDisposition: 'WRITE_TRUNCATE',
          createDisposition: 'CREATE_NEVER',
          schema: { fields: stagingFields },
          maxBadRecords: 0,
          ignoreUnknownValues: false,
        });
        return j;
      });
      const loadMeta = await this.waitForJob(loadJob, `load job ${ids.load}`);
      const outputRows = loadMeta.statistics?.load?.outputRows;
      if (outputRows !== undefined && Number(outputRows) !== staged) {
        throw new StoreError(
          `load job ${ids.load} staged ${outputRows} rows, expected ${staged}; nothing replaced, watermark unchanged`,
        );
      }

      const script = replaceWindowScript({
        projectId: this.options.projectId,
        dataset: this.options.dataset,
        table: job.schema.name,
        staging: stagingId,
        eventTime: job.schema.eventTime,
        columns,
        window: job.window,
        account: job.account,
      });
      const replaceJob = await this.insertJob(ids.replace, async () => {
        const [j] = await bq.createJob({
          jobId: ids.replace,
          location: this.options.location,
          configuration: { query: { query: script, useLegacySql: false } },
        });
        return j;
      });
      await this.waitForJob(replaceJob, `replace transaction ${ids.replace}`);
      const replaced = await this.deletedRows(ids.replace);
      // The state commits once the window is replaced (BigQuery cannot join its transaction).
      await job.commit();
      await staging.delete().catch(() => {
        // it expires a day after the load anyway
      });
      return { rows: staged, replaced };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** OpenLineage's BigQuery naming: namespace `bigquery`, name `{project}.{dataset}.{table}`. */
  datasetFor(schema: StreamSchema): DatasetName {
    return { namespace: 'bigquery', name: `${this.datasetName}.${schema.name}` };
  }

  async close(): Promise<void> {
    // The client holds no pool to end.
  }

  private async ensureDataset(): Promise<void> {
    const { dataset } = await this.client();
    if (this.datasetReady) return;
    try {
      const [exists] = await dataset.exists();
      if (!exists) {
        try {
          await dataset.create({
            location: this.options.location,
            description: 'NICE CXone Observability Dashboard exports, loaded by cxone-od-sync.',
          });
        } catch (err) {
          if ((err as GoogleApiError).code !== 409) throw err;
        }
      }
      this.datasetReady = true;
    } catch (err) {
      throw this.error(`cannot create dataset ${this.datasetName} (destination.dataset)`, err);
    }
  }

  /**
   * Inserts a job under a fixed id. A lost response or a 429/5xx is retried with the same id; a
   * 409 means an earlier attempt created the job, which is then re-attached, never run twice.
   */
  private async insertJob(id: string, insert: () => Promise<Job>): Promise<Job> {
    const { bq } = await this.client();
    const policy = {
      maxAttempts: this.options.insertAttempts ?? 4,
      baseDelayMs: 500,
      maxDelayMs: 8_000,
      maxRetryAfterMs: 0,
      jitter: false,
    };
    return withRetry<Job>(
      policy,
      async () => {
        try {
          return done(await insert());
        } catch (err) {
          // 409: an earlier attempt created it. A job that failed at once also exists: its
          // errors are read by waitForJob like any other job's.
          if (
            (err as GoogleApiError).code === 409 ||
            (err as GoogleApiError).response?.jobReference?.jobId === id
          )
            return done(bq.job(id, { location: this.options.location }));
          const fail = (): never => {
            throw this.error(`cannot start BigQuery job ${id}`, err);
          };
          return isRetryable(err) ? again(fail) : fail();
        }
      },
      this.options.sleep ? { sleep: this.options.sleep } : {},
    );
  }

  private async waitForJob(job: Job, what: string) {
    type JobMeta = { status?: JobStatus; statistics?: { load?: { outputRows?: string } } };
    return pollUntil<JobMeta, JobMeta>(
      {
        intervalMs: this.options.pollIntervalMs ?? 1_000,
        maxIntervalMs: 10_000,
        factor: 2,
        budgetMs: this.options.jobTimeoutMs ?? 30 * 60_000,
      },
      async () => {
        let meta: JobMeta;
        try {
          [meta] = await job.getMetadata();
        } catch (err) {
          throw this.error(`cannot read ${what}`, err);
        }
        if (meta.status?.state !== 'DONE') return { kind: 'pending', pending: meta };
        const e = meta.status.errorResult;
        if (e) {
          const details = (meta.status.errors ?? [e])
            .slice(0, 3)
            .map((x) => `${x.reason ?? 'error'}: ${x.message ?? ''}${x.location ? ` (${x.location})` : ''}`)
            .join('; ');
          throw new StoreError(`${what} failed: ${redact(details)}; nothing replaced, watermark unchanged`);
        }
        return { kind: 'done', value: meta };
      },
      () => {
        throw new StoreError(
          `${what} still running after the job timeout; nothing replaced, watermark unchanged`,
        );
      },
      this.options.sleep ? { sleep: this.options.sleep } : {},
    );
  }

  /** Rows the replace deleted, from its DELETE child job (informational: 0 when unavailable). */
  private async deletedRows(parentJobId: string): Promise<number> {
    const { bq } = await this.client();
    try {
      const [children] = await bq.getJobs({ parentJobId, autoPaginate: false });
      let deleted = 0;
      for (const c of children) {
        const stats = c.metadata?.statistics?.query?.dmlStats;
        if (stats?.deletedRowCount) deleted += Number(stats.deletedRowCount);
      }
      return deleted;
    } catch {
      return 0;
    }
  }

  private error(what: string, err: unknown): StoreError {
    return StoreError.wrap(what, err);
  }
}

function isRetryable(err: unknown): boolean {
  const e = err as GoogleApiError;
  // A query BigQuery cannot run fails the same way every time, whatever the HTTP status says.
  if (e.errors?.some((x) => x.reason === 'invalidQuery')) return false;
  if (typeof e.code === 'number') return retryableStatus(e.code);
  if (typeof e.code === 'string') return /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN)$/.test(e.code);
  return /socket hang up|network|ECONNRESET/i.test(e.message ?? '');
}
