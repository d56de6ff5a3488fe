import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { csvCell, displayHeaders, formatCell, generateRows } from '../../simulator/simulator-data.js';
import type {
  DownloadResult,
  ExportApi,
  ExportRequest,
  PreparedExport,
  ServerClockReading,
  SubmittedExport,
  VendorExportStatus,
} from '../../src/ports/export-api.js';
import type { DatasetName } from '../../src/ports/lineage.js';

/** One export the in-memory API made. */
export interface MemoryExport {
  readonly id: string;
  readonly request: ExportRequest;
  readonly prepared: PreparedExport;
  /** Status reads so far. */
  polls: number;
  /** Downloads so far. */
  downloads: number;
}

/** What a step of the API does instead of its default: a value, or an error to throw. */
type Step<T> = T | Error;

/** The CSV body of a window as the simulator's files have it (display headers, the vendor's formats). */
export function windowCsv(request: Pick<ExportRequest, 'stream' | 'window' | 'timeZone'>, seed = 7): string {
  const headers = displayHeaders(request.stream);
  const lines = [headers.map((h) => csvCell(h.header)).join(',')];
  const endInclusive = new Date(request.window.end.getTime() - 1);
  let i = 0;
  for (const row of generateRows(request.stream, request.window.start, endInclusive, { seed })) {
    const k = i++;
    lines.push(
      headers
        .map((h, c) =>
          csvCell(formatCell(request.stream, h.column, row[h.column] ?? null, request.timeZone, k + c)),
        )
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * An in-memory `ExportApi` (dlt's `dummy` is the precedent): exports are made, polled and
 * downloaded in this process, and a test scripts each step (`onSubmit`, `onStatus`,
 * `onDownload`): by default a request is accepted, its status is done at the first poll, and
 * its file is the window's rows. Every call is recorded.
 */
export class MemoryExportApi implements ExportApi {
  readonly exports = new Map<string, MemoryExport>();
  readonly calls = { authorize: 0, submit: 0, status: 0, download: 0 };
  /** The answer to the nth request (n from 1), instead of accepting it. */
  onSubmit: (request: ExportRequest, n: number) => Step<SubmittedExport> | undefined = () => undefined;
  /** The status of an export at its nth poll (n from 1), instead of done. */
  onStatus: (exp: MemoryExport) => Step<VendorExportStatus> | undefined = () => undefined;
  /** The file of an export at its nth download (n from 1), instead of the window's rows. */
  onDownload: (exp: MemoryExport) => Step<string> | undefined = () => undefined;
  /** Thrown by `authorize` when set (a token endpoint down). */
  authorizeError: Error | undefined;
  private readonly requests = new Map<string, ExportRequest>();
  private next = 1;

  buildRequest(request: ExportRequest): PreparedExport {
    const body = JSON.stringify({
      stream: request.stream,
      start: request.window.start.toISOString(),
      end: request.window.end.toISOString(),
    });
    const prepared = {
      apiPath: request.apiPath,
      requestBody: body,
      fileName: `${request.stream}_${request.window.start.getTime()}`,
    };
    this.requests.set(body, request);
    return prepared;
  }

  async authorize(): Promise<void> {
    this.calls.authorize++;
    if (this.authorizeError) throw this.authorizeError;
  }

  async submit(prepared: PreparedExport): Promise<SubmittedExport> {
    this.calls.submit++;
    const request = this.requests.get(prepared.requestBody)!;
    const step = this.onSubmit(request, this.calls.submit);
    if (step instanceof Error) throw step;
    if (step) return step;
    const id = `mem-${this.next++}`;
    this.exports.set(id, { id, request, prepared, polls: 0, downloads: 0 });
    return { exportId: id, statusUrl: `memory://status/${id}` };
  }

  async getStatus(statusUrl: string): Promise<VendorExportStatus> {
    this.calls.status++;
    const exp = this.exportAt(statusUrl);
    exp.polls++;
    const step = this.onStatus(exp);
    if (step instanceof Error) throw step;
    return (
      step ?? {
        state: 'done',
        vendorStatus: 'Completed',
        downloadUrl: `https://files.memory/${exp.id}?sig=s3cr3t`,
      }
    );
  }

  async download(url: string, dest: string): Promise<DownloadResult> {
    this.calls.download++;
    const exp = this.exportAt(url);
    exp.downloads++;
    const step = this.onDownload(exp);
    if (step instanceof Error) throw step;
    const body = Buffer.from(step ?? windowCsv(exp.request));
    await writeFile(dest, body);
    return {
      bytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
      host: 'files.memory',
    };
  }

  async serverClock(): Promise<ServerClockReading | undefined> {
    return undefined;
  }

  datasetFor(account: string, stream: string): DatasetName {
    return { namespace: 'memory://api', name: `${account}.${stream}` };
  }

  private exportAt(url: string): MemoryExport {
    const id = /(mem-\d+)/.exec(url)?.[1];
    const exp = id && this.exports.get(id);
    if (!exp) throw new Error(`no export at ${url}`);
    return exp;
  }
}
