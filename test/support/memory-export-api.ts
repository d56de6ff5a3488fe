import { createHash } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  ApiError,
  DownloadError,
  DownloadRefusedError,
  DownloadUrlExpiredError,
  ExportNotFoundError,
  ExportRefusedError,
  QuotaExhaustedError,
  RequestNotSentError,
  RequestNotTakenError,
} from '../../src/errors.js';
import type { Window } from '../../src/model/window.js';
import type { Clock } from '../../src/ports/clock.js';
import type {
  DownloadResult,
  ExportApi,
  ExportRequest,
  PreparedExport,
  ServerClockReading,
  SubmittedExport,
  VendorExportStatus,
} from '../../src/ports/export-api.js';

/**
 * An in-memory `ExportApi` whose exports the test scripts, as dlt's `dummy` destination stands in
 * for a warehouse: no HTTP, no simulator. It answers with the error classes the CXone connector
 * throws for the same HTTP answers (connectors/cxone/export-client.ts, file-download.ts), so the
 * engine sees what it would see in production, and it records every call.
 */

/** How the API answers one export request. */
export type SubmitAnswer =
  /** Accepted: an export is created, scripted by `script` (else the path's or the default). */
  | { readonly kind: 'accept'; readonly script?: ExportScript }
  /** The vendor's quota refusal (its 400 "Too many export requests"): nothing created. */
  | { readonly kind: 'quota'; readonly message?: string }
  /** Another 4xx (a table not exposed, a filter refused): nothing created. */
  | { readonly kind: 'refuse'; readonly status: number; readonly message?: string }
  /** 503 or 429 on the client's last attempt: the API did not take it. */
  | { readonly kind: 'not-taken'; readonly status?: number }
  /** The connection was refused: the request never left. */
  | { readonly kind: 'not-sent' }
  /** A 502/504 after sending: the vendor may have created an export (it did here, unseen). */
  | { readonly kind: 'unconfirmed'; readonly status?: number };

/** One answer of the status endpoint. */
export type StatusStep =
  | 'pending'
  | 'done'
  /** HTTP 404: not visible yet, or forgotten by the vendor. */
  | 'not-found'
  | { readonly failed: string };

/** One answer of a download. */
export type DownloadStep =
  /** The export's body, whole. */
  | 'whole'
  /** Another body, whole (a malformed file, say). */
  | { readonly body: string }
  /** Cut off after half the body: nothing is left at the destination path. */
  | 'cut-off'
  /** The URL expired (HTTP 403): the status gives a fresh one. */
  | 'expired'
  /** An answer no retry changes (HTTP 400). */
  | 'refused';

/** How one export behaves. A list's last step repeats once it is reached. */
export interface ExportScript {
  /** The status, poll by poll (default `['done']`). */
  readonly statuses?: readonly StatusStep[];
  /** The downloads, one by one (default `['whole']`). */
  readonly downloads?: readonly DownloadStep[];
  /** The file (default: the API's `body` for the request's stream and window). */
  readonly body?: string;
}

/** An export the API created. */
export interface MemoryExport {
  readonly exportId: string;
  readonly apiPath: string;
  readonly stream: string;
  readonly window: Window;
  /** Whether the engine was told of it (an unconfirmed request creates one it never learns of). */
  readonly confirmed: boolean;
  script: ExportScript;
  statusCalls: number;
  downloadCalls: number;
}

/** One call, as the API saw it. */
export type ApiCall =
  | { readonly op: 'authorize' }
  | { readonly op: 'submit'; readonly apiPath: string; readonly stream: string; readonly answer: string }
  | { readonly op: 'status'; readonly exportId: string; readonly answer: string }
  | { readonly op: 'download'; readonly exportId: string; readonly answer: string }
  | { readonly op: 'serverClock' };

export interface MemoryExportApiOptions {
  readonly clock: Clock;
  /** The file an accepted export of this stream and window serves. */
  readonly body: (stream: string, window: Window) => string;
}

const apiBase = 'https://api.example.test';
const fileHost = 'files.example.test';

function step<T>(steps: readonly T[] | undefined, index: number, fallback: T): T {
  if (!steps || steps.length === 0) return fallback;
  return steps[Math.min(index, steps.length - 1)]!;
}

export class MemoryExportApi implements ExportApi {
  readonly calls: ApiCall[] = [];
  readonly exports = new Map<string, MemoryExport>();
  /** The download URLs handed out, signature included (none may reach the ledger). */
  readonly downloadUrls: string[] = [];
  private readonly submitQueue: SubmitAnswer[] = [];
  private readonly pathQueues = new Map<string, SubmitAnswer[]>();
  private readonly pathScripts = new Map<string, ExportScript>();
  private authorizeFailures: Error[] = [];
  /** Called with each export request before it is answered (to see what the ledger holds then). */
  onSubmit?: (prepared: PreparedExport) => Promise<void>;
  private nextId = 1;

  constructor(private readonly options: MemoryExportApiOptions) {}

  /** The next export requests are answered so, in order (after any of their path's own). */
  answerSubmits(...answers: SubmitAnswer[]): void {
    this.submitQueue.push(...answers);
  }

  /** The next export requests of `apiPath` are answered so, in order. */
  answerSubmitsFor(apiPath: string, ...answers: SubmitAnswer[]): void {
    this.pathQueues.set(apiPath, [...(this.pathQueues.get(apiPath) ?? []), ...answers]);
  }

  /** Every export of `apiPath` accepted from now on (without a script of its own) behaves so. */
  scriptPath(apiPath: string, script: ExportScript): void {
    this.pathScripts.set(apiPath, script);
  }

  /** The next `authorize` calls fail with these errors (a token endpoint that is down). */
  failAuthorize(...errors: Error[]): void {
    this.authorizeFailures.push(...errors);
  }

  /** The export the API made under this vendor id. */
  export(exportId: string): MemoryExport {
    const e = this.exports.get(exportId);
    if (!e) throw new Error(`no export ${exportId}`);
    return e;
  }

  count(op: ApiCall['op']): number {
    return this.calls.filter((c) => c.op === op).length;
  }

  /** The answers of the export requests, in order. */
  submitAnswers(): string[] {
    return this.calls.flatMap((c) => (c.op === 'submit' ? [`${c.stream}:${c.answer}`] : []));
  }

  buildRequest(request: ExportRequest): PreparedExport {
    const { stream, window } = request;
    return {
      apiPath: request.apiPath,
      requestBody: JSON.stringify({
        stream,
        start: window.start.toISOString(),
        end: window.end.toISOString(),
        timeZone: request.timeZone,
        ...(request.channels ? { channels: request.channels } : {}),
        ...(request.filters ? { filters: request.filters } : {}),
      }),
      fileName: `${stream}_${window.start.toISOString()}_${window.end.toISOString()}`.replace(
        /[^A-Za-z0-9_-]/g,
        '',
      ),
    };
  }

  async authorize(): Promise<void> {
    this.calls.push({ op: 'authorize' });
    const failure = this.authorizeFailures.shift();
    if (failure) throw failure;
  }

  async submit(prepared: PreparedExport): Promise<SubmittedExport> {
    const body = JSON.parse(prepared.requestBody) as { stream: string; start: string; end: string };
    const window = { start: new Date(body.start), end: new Date(body.end) };
    await this.onSubmit?.(prepared);
    const answer = this.pathQueues.get(prepared.apiPath)?.shift() ??
      this.submitQueue.shift() ?? { kind: 'accept' };
    this.calls.push({ op: 'submit', apiPath: prepared.apiPath, stream: body.stream, answer: answer.kind });
    const create = (confirmed: boolean, script?: ExportScript): MemoryExport => {
      const exportId = `mem-${this.nextId++}`;
      const created: MemoryExport = {
        exportId,
        apiPath: prepared.apiPath,
        stream: body.stream,
        window,
        confirmed,
        script: script ?? this.pathScripts.get(prepared.apiPath) ?? {},
        statusCalls: 0,
        downloadCalls: 0,
      };
      this.exports.set(exportId, created);
      return created;
    };
    switch (answer.kind) {
      case 'accept': {
        const created = create(true, answer.script);
        return { exportId: created.exportId, statusUrl: `${apiBase}/status/${created.exportId}` };
      }
      case 'quota':
        throw new QuotaExhaustedError(
          null,
          `the API refused the export: quota used up (${answer.message ?? 'Too many export requests'})`,
        );
      case 'refuse':
        throw new ExportRefusedError(
          `export request answered HTTP ${answer.status}: ${answer.message ?? 'refused'}`,
          answer.status,
        );
      case 'not-taken': {
        const status = answer.status ?? 503;
        throw new RequestNotTakenError(
          `export request answered HTTP ${status}: unavailable, after 2 attempt(s); the API did not take the request, so no quota is counted`,
          status,
        );
      }
      case 'not-sent':
        throw new RequestNotSentError(`POST ${apiBase}/export-data failed: connect ECONNREFUSED (not sent)`);
      case 'unconfirmed': {
        create(false);
        const status = answer.status ?? 502;
        throw new ApiError(`export request answered HTTP ${status}: bad gateway`, status);
      }
    }
  }

  async getStatus(statusUrl: string): Promise<VendorExportStatus> {
    const exportId = statusUrl.slice(`${apiBase}/status/`.length);
    const e = this.exports.get(exportId);
    const answer = e ? step(e.script.statuses, e.statusCalls++, 'done') : 'not-found';
    const name = typeof answer === 'string' ? answer : 'failed';
    this.calls.push({ op: 'status', exportId, answer: name });
    if (answer === 'not-found' || !e)
      throw new ExportNotFoundError(`export status answered HTTP 404: export ${exportId} not found`);
    if (answer === 'pending') return { state: 'pending', vendorStatus: 'Pending' };
    if (answer === 'done') {
      const url = `https://${fileHost}/${exportId}/${this.downloadUrls.length + 1}?sig=s3cr3t-${exportId}-${this.downloadUrls.length + 1}`;
      this.downloadUrls.push(url);
      return { state: 'done', vendorStatus: 'Completed', downloadUrl: url };
    }
    return { state: 'failed', vendorStatus: 'Failed', message: answer.failed };
  }

  async download(url: string, dest: string, onProgress?: (bytes: number) => void): Promise<DownloadResult> {
    const exportId = new URL(url).pathname.split('/')[1] ?? '';
    const e = this.export(exportId);
    const answer = step(e.script.downloads, e.downloadCalls++, 'whole');
    this.calls.push({ op: 'download', exportId, answer: typeof answer === 'string' ? answer : 'body' });
    if (answer === 'expired')
      throw new DownloadUrlExpiredError(
        'download URL answered HTTP 403 (expired or gone); polling the status for a fresh one',
      );
    if (answer === 'refused') throw new DownloadRefusedError('download answered HTTP 400');
    const body = Buffer.from(
      typeof answer === 'object' ? answer.body : (e.script.body ?? this.options.body(e.stream, e.window)),
    );
    const part = `${dest}.part`;
    await mkdir(dirname(dest), { recursive: true });
    if (answer === 'cut-off') {
      const sent = Math.floor(body.length / 2);
      await writeFile(part, body.subarray(0, sent));
      onProgress?.(sent);
      await rm(part, { force: true });
      throw new DownloadError(
        `download from https://${fileHost}/${exportId} was cut off after ${sent} bytes`,
      );
    }
    await writeFile(part, body);
    onProgress?.(body.length);
    await rename(part, dest);
    return { bytes: body.length, sha256: createHash('sha256').update(body).digest('hex'), host: fileHost };
  }

  async serverClock(): Promise<ServerClockReading | undefined> {
    this.calls.push({ op: 'serverClock' });
    const now = this.options.clock.now();
    return { serverTime: now, localTime: now };
  }

  datasetFor(account: string, stream: string): { namespace: string; name: string } {
    return { namespace: 'memory://api', name: `${account}.${stream}` };
  }
}
