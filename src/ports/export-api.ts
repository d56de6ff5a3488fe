import type { Window } from '../model/window.js';
import type { DatasetName } from './lineage.js';

/**
 * The source as the engine sees it: an API that takes export requests, reports their status and
 * serves their files. The engine owns this interface; a source connector (the CXone client)
 * implements it, and the CLI composes the two.
 */
export interface ExportApi {
  /**
   * Builds the request for one window without sending it. The engine records `requestBody` and
   * `fileName` in the ledger before `submit`, so that a crash after sending is never a blind spot.
   */
  buildRequest(request: ExportRequest): PreparedExport;
  /**
   * Makes sure a request can be sent now (a token in hand) before the engine reserves a quota
   * slot for it, so that a login outage spends nothing. Throws `RequestNotSentError` when it
   * cannot. A source without a separate login step may omit it.
   */
  authorize?(): Promise<void>;
  /**
   * Sends a prepared request. One call is one spent export: it is never retried once it may have
   * arrived. A failure that proves nothing was sent (no connection, no token) is a
   * `RequestNotSentError`, and spends no quota.
   */
  submit(prepared: PreparedExport): Promise<SubmittedExport>;
  getStatus(statusUrl: string): Promise<VendorExportStatus>;
  /**
   * Streams the file to `dest`, whole or not at all. Throws `DownloadUrlExpiredError` when the
   * URL no longer works (the status gives a fresh one), another retryable `DownloadError` when
   * fetching again may help.
   */
  download(url: string, dest: string, onProgress?: (bytes: number) => void): Promise<DownloadResult>;
  /**
   * The vendor's clock: the `Date` header of its latest answer and the local time that answer
   * arrived. Before any answer it gets one that spends nothing (a token). Undefined when the
   * vendor sends no usable `Date`.
   */
  serverClock(): Promise<ServerClockReading | undefined>;
  /**
   * A stream's table at the vendor, for this account, as lineage systems name it (the input
   * dataset of a load), without credentials. Pure: nothing is sent.
   */
  datasetFor(account: string, stream: string): DatasetName;
}

/** One reading of the vendor's clock (an answer's `Date` header) and of ours at that moment. */
export interface ServerClockReading {
  readonly serverTime: Date;
  readonly localTime: Date;
}

/** One window of one stream, as the engine asks for it. */
export interface ExportRequest {
  /** The stream's path in the vendor's API. */
  readonly apiPath: string;
  readonly stream: string;
  readonly window: Window;
  readonly timeZone: string;
  /** Only for streams that accept channels. */
  readonly channels?: readonly string[] | undefined;
  readonly filters?: Readonly<Record<string, readonly string[]>> | undefined;
}

export interface PreparedExport {
  readonly apiPath: string;
  /** The request body as sent (JSON), kept in the ledger. */
  readonly requestBody: string;
  /** A deterministic name for the window's file (safe characters only), kept in the ledger. */
  readonly fileName: string;
}

export interface SubmittedExport {
  /** The vendor's id of the export. */
  readonly exportId: string;
  /** Where its status is read (on the API base, never another host). */
  readonly statusUrl: string;
}

export type VendorExportState = 'pending' | 'done' | 'failed';

/** An export's status as the vendor reports it. */
export interface VendorExportStatus {
  readonly state: VendorExportState;
  /** The vendor's own status value, for logs. */
  readonly vendorStatus: string;
  /** Set when `state` is `done`. */
  readonly downloadUrl?: string;
  readonly message?: string;
}

export interface DownloadResult {
  readonly bytes: number;
  readonly sha256: string;
  readonly host: string;
}
