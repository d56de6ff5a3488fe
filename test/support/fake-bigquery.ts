import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the BigQuery REST endpoints @google-cloud/bigquery calls (its
 * `apiEndpoint` option), and for the GCE metadata server that application default credentials
 * ask for a token (`GCE_METADATA_HOST`). It keeps datasets, tables with their rows, and jobs in
 * memory; load jobs (multipart uploads of NDJSON) check every value against the table schema;
 * query jobs run the statements this connector writes (transaction, DELETE of a timestamp range
 * (of one account), the UPDATE that fills `_account` of rows older than it,
 * INSERT ... SELECT, SELECT 1), all or nothing, in any case and spacing. Anything else is
 * refused with BigQuery's "invalidQuery", so SQL the stand-in cannot check fails the contract
 * tests rather than passing unchecked. As BigQuery does, each statement of a script becomes a
 * child job of it, carrying its DML counts and, inside a transaction, the transaction's id.
 */

// biome-ignore lint/suspicious/noExplicitAny: REST resources are free-form JSON
type Json = any;
type Row = Record<string, unknown>;

interface TableEntry {
  resource: Json;
  rows: Row[];
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly body: Json;
}

export interface FakeBigQueryFaults {
  /** The next load upload creates its job, then answers 503 (the response was "lost"). */
  loseNextUploadResponse?: boolean;
  /** The next query job insert creates its job, then answers 503. */
  loseNextQueryInsertResponse?: boolean;
  /** Query statements matching this fail their job (the transaction rolls back). */
  failStatement?: RegExp;
  /** Load jobs fail (invalid data, as BigQuery would say it). */
  failLoads?: boolean;
  /** Permissions testIamPermissions leaves out. */
  deniedPermissions?: string[];
  /** Jobs report RUNNING this many times before DONE. */
  runningPolls?: number;
}

export interface FakeBigQuery {
  readonly url: string;
  /** `host:port` for GCE_METADATA_HOST. */
  readonly metadataHost: string;
  readonly projectId: string;
  readonly token: string;
  readonly requests: RecordedRequest[];
  readonly datasets: Map<string, Json>;
  readonly tables: Map<string, TableEntry>;
  readonly jobs: Map<string, Json>;
  readonly faults: FakeBigQueryFaults;
  /** Tokens handed out by the metadata endpoint. */
  readonly issuedTokens: string[];
  rows(dataset: string, table: string): Row[];
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

export async function startFakeBigQuery(projectId = 'test-project'): Promise<FakeBigQuery> {
  const token = `fake-bq-token-${randomUUID()}`;
  const datasets = new Map<string, Json>();
  const tables = new Map<string, TableEntry>();
  const jobs = new Map<string, Json>();
  const polls = new Map<string, number>();
  const requests: RecordedRequest[] = [];
  const issuedTokens: string[] = [];
  const faults: FakeBigQueryFaults = {};
  let etag = 0;

  const tableKey = (d: string, t: string) => `${d}.${t}`;
  const getTable = (d: string, t: string): TableEntry => {
    const e = tables.get(tableKey(d, t));
    if (!e) throw new HttpError(404, `Not found: Table ${projectId}:${d}.${t}`, 'notFound');
    return e;
  };
  const tableResource = (e: TableEntry): Json => ({
    ...e.resource,
    numRows: String(e.rows.length),
  });

  function checkValue(field: Json, value: unknown, line: number): unknown {
    if (value === null || value === undefined) {
      if (field.mode === 'REQUIRED') throw new Error(`line ${line}: Missing required field: ${field.name}.`);
      return null;
    }
    const bad = () =>
      new Error(`line ${line}: Could not parse '${String(value)}' as ${field.type} for field ${field.name}`);
    switch (field.type) {
      case 'TIMESTAMP': {
        if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw bad();
        return new Date(value).toISOString();
      }
      case 'INT64':
        if (!/^-?\d+$/.test(String(value))) throw bad();
        return String(value);
      case 'FLOAT64':
        if (typeof value !== 'number') throw bad();
        return value;
      case 'BOOL':
        if (typeof value !== 'boolean') throw bad();
        return value;
      case 'STRING':
        if (typeof value !== 'string') throw bad();
        return value;
      default:
        throw bad();
    }
  }

  function runLoad(job: Json, data: Buffer): void {
    const cfg = job.configuration.load;
    const ref = cfg.destinationTable;
    const target = getTable(ref.datasetId, ref.tableId);
    if (cfg.sourceFormat !== 'NEWLINE_DELIMITED_JSON')
      throw new Error(`unexpected sourceFormat ${cfg.sourceFormat}`);
    if (faults.failLoads) throw new Error('Error while reading data, error message: JSON parsing error');
    const fields: Json[] = cfg.schema?.fields ?? target.resource.schema.fields;
    const byName = new Map(fields.map((f) => [f.name, f]));
    const rows: Row[] = [];
    let line = 0;
    for (let from = 0; from < data.length; ) {
      const eol = data.indexOf(10, from);
      const text = data.toString('utf8', from, eol < 0 ? data.length : eol);
      from = eol < 0 ? data.length : eol + 1;
      line++;
      if (text === '') continue;
      const obj = JSON.parse(text) as Row;
      for (const k of Object.keys(obj)) {
        if (!byName.has(k) && !cfg.ignoreUnknownValues) throw new Error(`line ${line}: no such field: ${k}.`);
      }
      const row: Row = {};
      for (const f of fields) row[f.name] = checkValue(f, obj[f.name], line);
      rows.push(row);
    }
    if (cfg.writeDisposition === 'WRITE_TRUNCATE') target.rows = rows;
    else target.rows.push(...rows);
    job.statistics = { load: { outputRows: String(rows.length), inputFiles: '1' } };
  }

  const tablePath = /^`([^`]+)`$/;
  function resolveTable(
    quoted: string,
    scratch: Map<string, Row[]>,
  ): { key: string; rows: Row[]; entry: TableEntry } {
    const m = tablePath.exec(quoted);
    const parts = m?.[1]?.split('.') ?? [];
    const t = parts.pop();
    const d = parts.pop();
    if (!t || !d) throw new Error(`cannot resolve table ${quoted}`);
    const entry = getTable(d, t);
    const key = tableKey(d, t);
    if (!scratch.has(key)) scratch.set(key, [...entry.rows]);
    return { key, rows: scratch.get(key) as Row[], entry };
  }

  function runQuery(job: Json): void {
    const sql: string = job.configuration.query.query;
    const statements = sql
      .split(/;/)
      .map((s) => s.trim())
      .filter(Boolean);
    const scratch = new Map<string, Row[]>();
    const children: Json[] = [];
    let transaction: string | undefined;
    let transactions = 0;
    for (const stmt of statements) {
      if (faults.failStatement?.test(stmt))
        throw new Error(`Query error: simulated failure of: ${stmt.slice(0, 40)}`);
      let m: RegExpExecArray | null;
      if (/^SELECT\s+1$/i.test(stmt)) continue;
      if (/^BEGIN(\s+TRANSACTION)?$/i.test(stmt)) {
        if (transaction) throw new Error('Nested transactions are not supported');
        transaction = `${job.jobReference.jobId}_tx${++transactions}`;
        continue;
      }
      if (/^COMMIT(\s+TRANSACTION)?$/i.test(stmt)) {
        if (!transaction) throw new Error('COMMIT without BEGIN');
        transaction = undefined;
        continue;
      }
      m =
        /^DELETE\s+FROM\s+(`[^`]+`)\s+WHERE\s+(?:`?(\w+)`?\s*=\s*'([^']*)'\s+AND\s+)?`?(\w+)`?\s*>=\s*TIMESTAMP\s*\(?'([^']+)'\)?\s+AND\s+`?(\w+)`?\s*<\s*TIMESTAMP\s*\(?'([^']+)'\)?$/i.exec(
          stmt,
        );
      if (m) {
        const t = resolveTable(m[1] as string, scratch);
        const [eqCol, eqValue] = [m[2], m[3]];
        const lo = Date.parse(m[5] as string);
        const hi = Date.parse(m[7] as string);
        const col = m[4] as string;
        if (col !== m[6]) throw new Error('DELETE bounds on two columns');
        if (eqCol && !t.entry.resource.schema.fields.some((f: Json) => f.name === eqCol))
          throw new Error(`Unrecognized name: ${eqCol}`);
        const kept = t.rows.filter((r) => {
          const v = Date.parse(String(r[col]));
          return !(v >= lo && v < hi && (eqCol === undefined || r[eqCol] === eqValue));
        });
        children.push({ kind: 'DELETE', deleted: t.rows.length - kept.length, transaction });
        scratch.set(t.key, kept);
        continue;
      }
      m = /^UPDATE\s+(`[^`]+`)\s+SET\s+`?(\w+)`?\s*=\s*'([^']*)'\s+WHERE\s+`?(\w+)`?\s+IS\s+NULL$/i.exec(
        stmt,
      );
      if (m) {
        const t = resolveTable(m[1] as string, scratch);
        const [setCol, value, nullCol] = [m[2] as string, m[3] as string, m[4] as string];
        scratch.set(
          t.key,
          t.rows.map((r) => ((r[nullCol] ?? null) === null ? { ...r, [setCol]: value } : r)),
        );
        children.push({ kind: 'UPDATE', transaction });
        continue;
      }
      m = /^INSERT\s+INTO\s+(`[^`]+`)\s*\(([^)]*)\)\s*SELECT\s+(.*)\s+FROM\s+(`[^`]+`)$/is.exec(stmt);
      if (m) {
        const target = resolveTable(m[1] as string, scratch);
        const source = resolveTable(m[4] as string, scratch);
        const cols = (m[2] as string).split(',').map((c) => c.trim().replace(/`/g, ''));
        const sel = (m[3] as string).split(',').map((c) => c.trim().replace(/`/g, ''));
        if (cols.join() !== sel.join()) throw new Error('INSERT column list and SELECT list differ');
        const fields: Json[] = target.entry.resource.schema.fields;
        for (const c of cols) {
          if (!fields.some((f) => f.name === c)) throw new Error(`Column ${c} is not present in table`);
        }
        for (const r of source.rows) {
          const row: Row = {};
          for (const f of fields) row[f.name] = cols.includes(f.name) ? (r[f.name] ?? null) : null;
          for (const f of fields) {
            if (f.mode === 'REQUIRED' && row[f.name] === null)
              throw new Error(`Required field ${f.name} cannot be null`);
          }
          target.rows.push(row);
        }
        children.push({ kind: 'INSERT', inserted: source.rows.length, transaction });
        continue;
      }
      throw new Error(`Syntax error: statement not understood by the fake: ${stmt.slice(0, 80)}`);
    }
    if (transaction) throw new Error('Transaction is not committed');
    // All or nothing: only a script that ran to its end changes the tables.
    for (const [key, rows] of scratch) (tables.get(key) as TableEntry).rows = rows;
    let n = 0;
    for (const c of children) {
      const id = `script_job_${randomUUID().replace(/-/g, '')}_${n++}`;
      jobs.set(id, {
        kind: 'bigquery#job',
        id: `${projectId}:${job.jobReference.location}.${id}`,
        jobReference: { projectId, jobId: id, location: job.jobReference.location },
        configuration: { query: {} },
        status: { state: 'DONE' },
        statistics: {
          parentJobId: job.jobReference.jobId,
          ...(c.transaction ? { transactionInfo: { transactionId: c.transaction } } : {}),
          query: {
            statementType: c.kind,
            dmlStats:
              c.kind === 'DELETE'
                ? { deletedRowCount: String(c.deleted) }
                : { insertedRowCount: String(c.inserted) },
          },
        },
      });
    }
  }

  function createJob(body: Json, data?: Buffer): Json {
    const ref = body.jobReference ?? {};
    const jobId: string = ref.jobId ?? randomUUID();
    if (jobs.has(jobId))
      throw new HttpError(409, `Already Exists: Job ${projectId}:${ref.location}.${jobId}`, 'duplicate');
    const job: Json = {
      kind: 'bigquery#job',
      id: `${projectId}:${ref.location ?? 'US'}.${jobId}`,
      jobReference: { projectId, jobId, location: ref.location ?? 'US' },
      configuration: body.configuration,
      status: { state: 'DONE' },
      statistics: {},
    };
    try {
      if (body.configuration?.load) runLoad(job, data ?? Buffer.alloc(0));
      else if (body.configuration?.query) runQuery(job);
    } catch (err) {
      if (err instanceof HttpError && err.status !== 404) throw err;
      const message = (err as Error).message;
      job.status = {
        state: 'DONE',
        errorResult: { reason: 'invalidQuery', message },
        errors: [{ reason: 'invalidQuery', message }],
      };
    }
    if (body.configuration?.dryRun) return { ...job, statistics: { totalBytesProcessed: '0' } };
    jobs.set(jobId, job);
    polls.set(jobId, faults.runningPolls ?? 0);
    return job;
  }

  function jobView(job: Json): Json {
    const left = polls.get(job.jobReference.jobId) ?? 0;
    if (left > 0) {
      polls.set(job.jobReference.jobId, left - 1);
      return { ...job, status: { state: 'RUNNING' } };
    }
    return job;
  }

  /** The two parts of a multipart upload, the data kept as bytes (an upload may pass 512 MiB). */
  function parseMultipart(req: IncomingMessage, raw: Buffer): { meta: Json; data: Buffer } {
    const type = req.headers['content-type'] ?? '';
    const boundary = /boundary="?([^";]+)"?/.exec(type)?.[1];
    if (!boundary) throw new HttpError(400, 'multipart upload without boundary', 'invalid');
    const marker = Buffer.from(`--${boundary}`);
    const parts: Buffer[] = [];
    let at = raw.indexOf(marker);
    while (at >= 0) {
      const next = raw.indexOf(marker, at + marker.length);
      if (next < 0) break;
      const part = raw.subarray(at + marker.length, next);
      const body = part.indexOf('\r\n\r\n');
      const end =
        part.length >= 2 && part.subarray(part.length - 2).toString() === '\r\n'
          ? part.length - 2
          : part.length;
      parts.push(part.subarray(body + 4, end));
      at = next;
    }
    if (parts.length !== 2)
      throw new HttpError(400, `expected 2 multipart parts, got ${parts.length}`, 'invalid');
    return { meta: JSON.parse(parts[0]!.toString('utf8')), data: parts[1]! };
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL, raw: Buffer): Promise<Json> {
    const p = url.pathname;
    const method = req.method ?? 'GET';
    if (p.startsWith('/computeMetadata/')) {
      if (req.headers['metadata-flavor'] !== 'Google')
        throw new HttpError(403, 'Missing Metadata-Flavor', 'forbidden');
      res.setHeader('Metadata-Flavor', 'Google');
      if (p === '/computeMetadata/v1/instance/service-accounts/default/token') {
        issuedTokens.push(token);
        return { access_token: token, expires_in: 3599, token_type: 'Bearer' };
      }
      if (p === '/computeMetadata/v1/project/project-id') return projectId;
      if (p === '/computeMetadata/v1/universe/universe-domain') return 'googleapis.com';
      return {};
    }
    if (req.headers.authorization !== `Bearer ${token}`)
      throw new HttpError(401, 'Request is missing required authentication credential.', 'unauthorized');
    const body = raw.length && !p.startsWith('/upload/') ? JSON.parse(raw.toString('utf8')) : undefined;
    const base = `/bigquery/v2/projects/${projectId}`;
    if (method === 'POST' && p === `/upload${base}/jobs`) {
      const { meta, data } = parseMultipart(req, raw);
      const job = createJob(meta, data);
      if (faults.loseNextUploadResponse) {
        faults.loseNextUploadResponse = false;
        throw new HttpError(
          503,
          'Service unavailable (response lost after the job was created)',
          'backendError',
        );
      }
      return job;
    }
    if (!p.startsWith(base)) throw new HttpError(404, `unknown path ${p}`, 'notFound');
    const rest = p.slice(base.length);
    const at = (verb: string, re: RegExp) => (verb === method || verb === '*' ? re.exec(rest) : null);
    if (method === 'POST' && rest === '/jobs') {
      const job = createJob(body);
      if (faults.loseNextQueryInsertResponse && !body.configuration?.dryRun) {
        faults.loseNextQueryInsertResponse = false;
        throw new HttpError(
          503,
          'Service unavailable (response lost after the job was created)',
          'backendError',
        );
      }
      return job;
    }
    if (method === 'GET' && rest === '/jobs') {
      const parent = url.searchParams.get('parentJobId');
      return {
        kind: 'bigquery#jobList',
        jobs: [...jobs.values()].filter((j) => !parent || j.statistics?.parentJobId === parent),
      };
    }
    const jobMatch = at('GET', /^\/jobs\/([^/]+)$/);
    if (jobMatch) {
      const m = jobMatch;
      const job = jobs.get(decodeURIComponent(m[1] as string));
      if (!job) throw new HttpError(404, `Not found: Job ${m[1]}`, 'notFound');
      return jobView(job);
    }
    if (method === 'POST' && rest === '/datasets') {
      const id = body.datasetReference.datasetId as string;
      if (datasets.has(id))
        throw new HttpError(409, `Already Exists: Dataset ${projectId}:${id}`, 'duplicate');
      const ds = { ...body, id: `${projectId}:${id}`, location: body.location ?? 'US' };
      datasets.set(id, ds);
      return ds;
    }
    const dsMatch = at('GET', /^\/datasets\/([^/]+)$/);
    if (dsMatch) {
      const m = dsMatch;
      const ds = datasets.get(m[1] as string);
      if (!ds) throw new HttpError(404, `Not found: Dataset ${projectId}:${m[1]}`, 'notFound');
      return ds;
    }
    const tablesMatch = at('POST', /^\/datasets\/([^/]+)\/tables$/);
    if (tablesMatch) {
      const m = tablesMatch;
      const d = m[1] as string;
      if (!datasets.has(d)) throw new HttpError(404, `Not found: Dataset ${projectId}:${d}`, 'notFound');
      const t = body.tableReference.tableId as string;
      if (tables.has(tableKey(d, t)))
        throw new HttpError(409, `Already Exists: Table ${projectId}:${d}.${t}`, 'duplicate');
      const resource = { ...body, id: `${projectId}:${d}.${t}`, etag: `etag-${++etag}` };
      tables.set(tableKey(d, t), { resource, rows: [] });
      return tableResource(tables.get(tableKey(d, t)) as TableEntry);
    }
    const iamMatch = at('POST', /^\/datasets\/([^/]+)\/tables\/([^/]+):testIamPermissions$/);
    if (iamMatch) {
      const m = iamMatch;
      getTable(m[1] as string, m[2] as string);
      const denied = new Set(faults.deniedPermissions ?? []);
      return { permissions: (body.permissions as string[]).filter((x) => !denied.has(x)) };
    }
    const tableMatch = at('*', /^\/datasets\/([^/]+)\/tables\/([^/]+)$/);
    if (tableMatch) {
      const m = tableMatch;
      const d = m[1] as string;
      const t = m[2] as string;
      if (method === 'GET') return tableResource(getTable(d, t));
      if (method === 'DELETE') {
        getTable(d, t);
        tables.delete(tableKey(d, t));
        res.statusCode = 204;
        return undefined;
      }
      if (method === 'PATCH') {
        const e = getTable(d, t);
        const ifMatch = req.headers['if-match'];
        if (ifMatch && ifMatch !== e.resource.etag)
          throw new HttpError(412, 'Precondition check failed.', 'conditionNotMet');
        const { etag: _ignored, ...patch } = body;
        e.resource = { ...e.resource, ...patch, etag: `etag-${++etag}` };
        return tableResource(e);
      }
    }
    throw new HttpError(404, `unknown route ${method} ${p}`, 'notFound');
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const raw = Buffer.concat(chunks);
      let parsed: Json;
      if (!url.pathname.startsWith('/upload/') && raw.length) {
        try {
          parsed = JSON.parse(raw.toString('utf8'));
        } catch {
          parsed = raw.toString('utf8');
        }
      }
      if (url.pathname.startsWith('/upload/')) {
        try {
          parsed = parseMultipart(req, raw).meta;
        } catch {
          parsed = undefined;
        }
      }
      requests.push({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body: parsed,
      });
      route(req, res, url, raw)
        .then((out) => {
          if (res.statusCode === 204) return res.end();
          if (typeof out === 'string') {
            res.setHeader('Content-Type', 'application/text');
            return res.end(out);
          }
          res.setHeader('Content-Type', 'application/json');
          res.end(JSON.stringify(out ?? {}));
        })
        .catch((err: unknown) => {
          const e =
            err instanceof HttpError ? err : new HttpError(500, (err as Error).message, 'internalError');
          res.statusCode = e.status;
          res.setHeader('Content-Type', 'application/json');
          res.end(
            JSON.stringify({
              error: {
                code: e.status,
                message: e.message,
                errors: [{ reason: e.reason, message: e.message }],
              },
            }),
          );
        });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    metadataHost: `127.0.0.1:${port}`,
    projectId,
    token,
    requests,
    datasets,
    tables,
    jobs,
    faults,
    issuedTokens,
    rows: (d, t) => getTable(d, t).rows,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
