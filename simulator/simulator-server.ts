import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime, IANAZone } from 'luxon';
import { findStreamSchema } from '../schemas/index.js';
import { csvQuote, type DataOptions, displayHeaders, formatCell, generateRows } from './simulator-data.js';

/** Switchable faults (SPEC section 9). Every field can be changed at run time over `POST /_sim/faults`. */
export interface SimulatorFaults {
  /** Extra latency on every API answer. */
  latencyMs?: number;
  /** The next N calls of a kind answer this status (503 or 429, with Retry-After seconds). */
  failNext?: FailureFault | FailureFault[];
  /** The next N status answers give a download URL that has already expired. */
  expireNextUrls?: number;
  /** Invalidates every token issued so far (the next API call gets a 401). */
  revokeTokens?: boolean;
  /** Serves downloads at this many bytes per second (for tests that stop a process mid-download). */
  downloadBytesPerSecond?: number;
  /** Lifetime of issued tokens. */
  tokenTtlSeconds?: number;
  /** Lifetime of signed download URLs. */
  urlTtlMs?: number;
  /** Time an export stays Pending. */
  processingMs?: number;
  /** The next N downloads are cut off in the middle of a record; with or without Content-Length. */
  truncateDownloads?: { count: number; withContentLength: boolean };
  /** Every Nth data row gets a bad value in a typed column. */
  malformedEvery?: number;
  /** Adds an extra column `Sentiment Score` to every file. */
  driftExtraHeader?: boolean;
  /** The simulator's own rolling 24h quota. */
  quota?: number;
}

export interface FailureFault {
  kind: 'token' | 'export' | 'status' | 'download';
  status: number;
  count: number;
  retryAfterSeconds?: number;
}

export interface SimulatorOptions {
  port?: number;
  downloadPort?: number;
  host?: string;
  clientId?: string;
  clientSecret?: string;
  accessKey?: string;
  accessSecret?: string;
  data?: DataOptions;
  faults?: SimulatorFaults;
  now?: () => number;
  /** Serve this file for every export of a stream (the benchmark's pre-generated CSV). */
  staticFiles?: Record<string, string>;
  /** Host name written into URLs (download links) when it differs from the bind address (containers). */
  publicHost?: string;
  /** Write Location as an absolute URL (default relative). */
  absoluteLocation?: boolean;
}

export interface ExportRecord {
  id: string;
  path: string;
  stream: string;
  startDate: string;
  endDate: string;
  timeZone: string;
  body: unknown;
  createdAt: number;
}

export interface SimulatorStats {
  tokenRequests: number;
  exportRequests: ExportRecord[];
  rejectedExportRequests: { path: string; status: number; message: string }[];
  statusRequests: number;
  downloads: number;
  /** Download requests that carried an Authorization header (the bearer token must never go there). */
  downloadsWithAuthorization: number;
  /** Every access token issued (for tests that check none leaks). */
  issuedTokens: string[];
  /** Every download URL handed out (their query strings must never leak). */
  downloadUrls: string[];
}

export interface RunningSimulator {
  readonly apiBase: string;
  readonly authUrl: string;
  readonly downloadBase: string;
  readonly credentials: { clientId: string; clientSecret: string; accessKey: string; accessSecret: string };
  readonly stats: SimulatorStats;
  setFaults(faults: SimulatorFaults): void;
  close(): Promise<void>;
}

const tablePaths = new Map<string, string>([
  ['Copilot/KBTable', 'copilot_kb'],
  ['Copilot/ASTable', 'copilot_as'],
  ['Copilot/AQTable', 'copilot_aq'],
  ['AutopilotKnowledge/GRTable', 'autopilot_gr'],
  ['autopilot/GRTable', 'autopilot_gr'],
]);

export const horizonMessage = 'Export date range cannot be more than 4 months ago without authorization';
export const quotaMessage =
  'Too many export requests. The limit is 3 exports per 24 hours for non-Observability Dashboard users';

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function apiError(res: ServerResponse, status: number, message: string): void {
  json(res, status, {
    message,
    statusCode: status,
    traceId: randomUUID(),
    exception: { message, statusCode: status },
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const isoDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * The export API simulator: token endpoint, the five export paths with the documented request
 * validation and both documented 400s, Location, status, and signed expiring downloads from a
 * second origin (another port).
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? Date.now;
  const creds = {
    clientId: options.clientId ?? 'sim-client',
    clientSecret: options.clientSecret ?? 'sim-client-secret',
    accessKey: options.accessKey ?? 'SIMACCESSKEY==',
    accessSecret: options.accessSecret ?? 'sim-access-secret',
  };
  let faults: SimulatorFaults = { ...options.faults };
  const signKey = randomBytes(16);
  const tokens = new Map<string, number>();
  const exports = new Map<string, ExportRecord>();
  const stats: SimulatorStats = {
    tokenRequests: 0,
    exportRequests: [],
    rejectedExportRequests: [],
    statusRequests: 0,
    downloads: 0,
    downloadsWithAuthorization: 0,
    issuedTokens: [],
    downloadUrls: [],
  };
  const dir = await mkdtemp(join(tmpdir(), 'cxone-sim-'));
  const files = new Map<string, Promise<string>>();
  let apiBase = '';
  let downloadBase = '';
  const setFaults = (f: SimulatorFaults) => {
    if (f.revokeTokens) tokens.clear();
    const { revokeTokens: _ignored, ...rest } = f;
    faults = { ...faults, ...rest };
  };

  const takeFault = (kind: FailureFault['kind'], res: ServerResponse): boolean => {
    const list = Array.isArray(faults.failNext) ? faults.failNext : faults.failNext ? [faults.failNext] : [];
    const f = list.find((x) => x.kind === kind && x.count > 0);
    if (!f) return false;
    f.count--;
    const headers: Record<string, string> =
      f.retryAfterSeconds !== undefined ? { 'retry-after': String(f.retryAfterSeconds) } : {};
    json(
      res,
      f.status,
      { message: `simulated ${f.status}`, statusCode: f.status, traceId: randomUUID() },
      headers,
    );
    return true;
  };

  const authorized = (req: IncomingMessage, res: ServerResponse, path: string): boolean => {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const exp = m ? tokens.get(m[1]!) : undefined;
    if (exp !== undefined && exp > now()) return true;
    json(res, 401, { timestamp: new Date(now()).toISOString(), status: 401, error: 'Unauthorized', path });
    return false;
  };

  const sign = (id: string, expires: number) =>
    createHmac('sha256', signKey).update(`${id}:${expires}`).digest('hex');

  async function fileFor(rec: ExportRecord, fileName: string): Promise<string> {
    const fixed = options.staticFiles?.[rec.stream];
    if (fixed) return fixed;
    const key = `${rec.id}`;
    let p = files.get(key);
    if (!p) {
      p = writeExportFile(rec, join(dir, `${rec.id}-${fileName.replace(/[^A-Za-z0-9._-]/g, '_')}.csv`));
      files.set(key, p);
    }
    return p;
  }

  async function writeExportFile(rec: ExportRecord, path: string): Promise<string> {
    const out = createWriteStream(path);
    const cols = displayHeaders(rec.stream);
    const headers = cols.map((c) => csvQuote(c.header));
    if (faults.driftExtraHeader) headers.push('Sentiment Score');
    const write = async (s: string) => {
      if (!out.write(s)) await once(out, 'drain');
    };
    await write(`\uFEFF${headers.join(',')}\r\n`);
    const body = rec.body as { channels?: string[]; filters?: Record<string, string[]> };
    let i = 0;
    let batch = '';
    for (const row of generateRows(
      rec.stream,
      new Date(rec.startDate),
      new Date(rec.endDate),
      options.data,
    )) {
      if (!matchesFilters(row, body)) continue;
      i++;
      const cells = cols.map((c, ci) =>
        csvQuote(formatCell(rec.stream, c.column, row[c.column] ?? null, rec.timeZone, i + ci)),
      );
      if (faults.malformedEvery && i % faults.malformedEvery === 0) {
        const typed = findStreamSchema(rec.stream)!.columns.findIndex(
          (c) => c.type === 'integer' || c.type === 'number',
        );
        cells[typed] = 'not-a-number';
      }
      if (faults.driftExtraHeader) cells.push(String((i % 100) / 100));
      batch += `${cells.join(',')}\r\n`;
      if (batch.length > 65_536) {
        await write(batch);
        batch = '';
      }
    }
    await write(batch);
    out.end();
    await once(out, 'finish');
    return path;
  }

  const api = createServer((req, res) => {
    const handle = async () => {
      if (faults.latencyMs) await new Promise((r) => setTimeout(r, faults.latencyMs));
      const url = new URL(req.url ?? '/', apiBase);
      const path = url.pathname;
      if (req.method === 'POST' && path === '/auth/token') return token(req, res);
      if (path === '/_sim/faults' && req.method === 'POST') {
        setFaults(JSON.parse(await readBody(req)) as SimulatorFaults);
        return json(res, 200, faults);
      }
      if (path === '/_sim/stats') return json(res, 200, stats);
      const statusMatch = /^\/observabilitydashboard\/v2\/tables\/export-data\/([^/]+)\/status$/.exec(path);
      if (req.method === 'GET' && statusMatch)
        return status(req, res, decodeURIComponent(statusMatch[1]!), url);
      const exportMatch = /^\/observabilitydashboard\/v2\/tables\/(.+)\/export-data$/.exec(path);
      if (req.method === 'POST' && exportMatch) return exportData(req, res, exportMatch[1]!, path);
      apiError(res, 404, `no route for ${req.method} ${path}`);
    };
    handle().catch((err: unknown) => {
      if (!res.headersSent) apiError(res, 500, (err as Error).message);
      else res.destroy();
    });
  });

  async function token(req: IncomingMessage, res: ServerResponse) {
    stats.tokenRequests++;
    if (takeFault('token', res)) return;
    const form = new URLSearchParams(await readBody(req));
    let clientId = form.get('client_id');
    let clientSecret = form.get('client_secret');
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    if (basic) {
      const [id, secret] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
      clientId = decodeURIComponent(id ?? '');
      clientSecret = decodeURIComponent(secret ?? '');
    }
    if (form.get('grant_type') !== 'password') {
      return json(res, 400, {
        error: 'unsupported_grant_type',
        error_description: 'grant_type must be password',
      });
    }
    if (clientId !== creds.clientId || clientSecret !== creds.clientSecret) {
      return json(res, 401, { error: 'invalid_client', error_description: 'Client authentication failed' });
    }
    if (form.get('username') !== creds.accessKey || form.get('password') !== creds.accessSecret) {
      return json(res, 400, { error: 'invalid_grant', error_description: 'Invalid access key or secret' });
    }
    const ttl = faults.tokenTtlSeconds ?? 3600;
    const value = `sim.${randomBytes(24).toString('base64url')}`;
    tokens.set(value, now() + ttl * 1000);
    stats.issuedTokens.push(value);
    json(res, 200, {
      access_token: value,
      token_type: 'Bearer',
      expires_in: ttl,
      refresh_token: randomUUID(),
      id_token: 'x.y.z',
    });
  }

  async function exportData(req: IncomingMessage, res: ServerResponse, tablePath: string, fullPath: string) {
    if (!authorized(req, res, fullPath)) return;
    if (takeFault('export', res)) return;
    const reject = (status: number, message: string) => {
      stats.rejectedExportRequests.push({ path: tablePath, status, message });
      apiError(res, status, message);
    };
    const stream = tablePaths.get(tablePath);
    if (!stream) return reject(404, `Unknown table ${tablePath}`);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await readBody(req)) as Record<string, unknown>;
    } catch {
      return reject(400, 'Request body must be JSON');
    }
    const schema = findStreamSchema(stream)!;
    const allowedKeys = [
      'dateRange',
      'timeZone',
      ...(schema.accepts.channels ? ['channels'] : []),
      ...(schema.accepts.filters.length ? ['filters'] : []),
    ];
    for (const k of Object.keys(body))
      if (!allowedKeys.includes(k)) return reject(400, `Unexpected field ${k} for ${tablePath}`);
    const range = body.dateRange as { startDate?: unknown; endDate?: unknown } | undefined;
    if (!range || typeof range.startDate !== 'string' || typeof range.endDate !== 'string') {
      return reject(400, 'dateRange.startDate and dateRange.endDate are required');
    }
    if (!isoDateTime.test(range.startDate) || !isoDateTime.test(range.endDate))
      return reject(400, 'dateRange values must be ISO 8601 date-times');
    const start = Date.parse(range.startDate);
    const end = Date.parse(range.endDate);
    if (!(start <= end)) return reject(400, 'dateRange.startDate must not be after endDate');
    if (typeof body.timeZone !== 'string' || !IANAZone.isValidZone(body.timeZone))
      return reject(400, 'timeZone is required and must be an IANA time zone');
    if (body.channels !== undefined) {
      if (!Array.isArray(body.channels) || body.channels.some((c) => c !== 'digital' && c !== 'voice')) {
        return reject(400, 'channels must be an array of digital, voice');
      }
    }
    if (body.filters !== undefined) {
      const f = body.filters as Record<string, unknown>;
      if (typeof f !== 'object' || f === null || Array.isArray(f))
        return reject(400, 'filters must be an object');
      for (const [k, v] of Object.entries(f)) {
        if (!schema.accepts.filters.includes(k))
          return reject(400, `Unexpected filter ${k} for ${tablePath}`);
        if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
          return reject(400, `filters.${k} must be an array of strings`);
      }
    }
    const horizon = DateTime.fromMillis(now(), { zone: 'utc' }).minus({ months: 4 }).toMillis();
    if (start < horizon) return reject(400, horizonMessage);
    const quota = faults.quota ?? 3;
    const recent = stats.exportRequests.filter((e) => e.createdAt > now() - 86_400_000).length;
    if (recent >= quota) return reject(400, quotaMessage);
    const id = randomUUID();
    const rec: ExportRecord = {
      id,
      path: tablePath,
      stream,
      startDate: range.startDate,
      endDate: range.endDate,
      timeZone: body.timeZone,
      body,
      createdAt: now(),
    };
    exports.set(id, rec);
    stats.exportRequests.push(rec);
    const statusPath = `/observabilitydashboard/v2/tables/export-data/${id}/status?fileName=export`;
    res.writeHead(202, {
      location: options.absoluteLocation ? `${apiBase}${statusPath}` : statusPath,
      'content-length': '0',
    });
    res.end();
  }

  function status(req: IncomingMessage, res: ServerResponse, id: string, url: URL) {
    if (!authorized(req, res, url.pathname)) return;
    stats.statusRequests++;
    if (takeFault('status', res)) return;
    const rec = exports.get(id);
    if (!rec) return apiError(res, 404, `Export ${id} not found`);
    const fileName = url.searchParams.get('fileName') ?? 'export';
    if (now() < rec.createdAt + (faults.processingMs ?? 0))
      return json(res, 200, { status: 'Pending', exportId: id });
    let expires = now() + (faults.urlTtlMs ?? 60_000);
    if (faults.expireNextUrls && faults.expireNextUrls > 0) {
      faults.expireNextUrls--;
      expires = now() - 1;
    }
    const dl = `${downloadBase}/files/${id}/${encodeURIComponent(fileName)}.csv?expires=${expires}&sig=${sign(id, expires)}`;
    stats.downloadUrls.push(dl);
    json(res, 200, { status: 'Completed', exportId: id, downloadUrl: dl });
  }

  const downloads = createServer((req, res) => {
    const handle = async () => {
      const url = new URL(req.url ?? '/', downloadBase);
      const m = /^\/files\/([^/]+)\/([^/]+)\.csv$/.exec(url.pathname);
      const rec = m ? exports.get(m[1]!) : undefined;
      if (!m || !rec) return apiError(res, 404, 'no such file');
      const expires = Number(url.searchParams.get('expires'));
      if (url.searchParams.get('sig') !== sign(rec.id, expires)) return apiError(res, 403, 'bad signature');
      if (expires < now()) {
        res.writeHead(403, { 'content-type': 'application/xml' });
        return res.end('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
      }
      if (req.headers.authorization) stats.downloadsWithAuthorization++;
      if (takeFault('download', res)) return;
      stats.downloads++;
      const path = await fileFor(rec, decodeURIComponent(m[2]!));
      const size = (await stat(path)).size;
      const t = faults.truncateDownloads;
      if (t && t.count > 0) {
        t.count--;
        // Cut inside the last record: after the header and before the final line end.
        const cut = Math.max(1, Math.floor(size * 0.7));
        const headers: Record<string, string> = { 'content-type': 'text/csv; charset=utf-8' };
        if (t.withContentLength) headers['content-length'] = String(size);
        res.writeHead(200, headers);
        const rs = createReadStream(path, { start: 0, end: cut - 1 });
        rs.pipe(res, { end: false });
        rs.on('end', () => (t.withContentLength ? res.destroy() : res.end()));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-length': String(size) });
      const rate = faults.downloadBytesPerSecond;
      if (!rate) return createReadStream(path).pipe(res);
      // Throttled: 10 slices a second.
      const rs = createReadStream(path, { highWaterMark: Math.max(1, Math.floor(rate / 10)) });
      rs.on('data', (chunk) => {
        res.write(chunk);
        rs.pause();
        setTimeout(() => rs.resume(), 100);
      });
      rs.on('end', () => res.end());
      res.on('close', () => rs.destroy());
    };
    handle().catch((err: unknown) => {
      if (!res.headersSent) apiError(res, 500, (err as Error).message);
      else res.destroy();
    });
  });

  await new Promise<void>((r) => api.listen(options.port ?? 0, host, r));
  await new Promise<void>((r) => downloads.listen(options.downloadPort ?? 0, host, r));
  const shown = options.publicHost ?? host;
  const hostInUrl = shown.includes(':') ? `[${shown}]` : shown;
  apiBase = `http://${hostInUrl}:${(api.address() as AddressInfo).port}`;
  downloadBase = `http://${hostInUrl}:${(downloads.address() as AddressInfo).port}`;

  const close = async (s: Server) => {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  };
  return {
    apiBase,
    authUrl: `${apiBase}/auth/token`,
    downloadBase,
    credentials: creds,
    stats,
    setFaults,
    async close() {
      await Promise.all([close(api), close(downloads)]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function matchesFilters(
  row: Record<string, unknown>,
  body: { channels?: string[]; filters?: Record<string, string[]> },
): boolean {
  if (body.channels && body.channels.length > 0 && 'channel' in row) {
    const voice = row.channel === 'Voice';
    if (!body.channels.includes(voice ? 'voice' : 'digital')) return false;
  }
  const columnOf: Record<string, string> = {
    Team: 'team',
    Skill: 'skill',
    CopilotProfileId: 'copilot_profile_id',
    AgentNumber: 'agent_number',
  };
  for (const [k, vals] of Object.entries(body.filters ?? {})) {
    if (vals.length === 0) continue;
    const col = columnOf[k];
    if (col && col in row && !vals.includes(String(row[col]))) return false;
  }
  return true;
}
