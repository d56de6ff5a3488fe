import { StatusUnreadableError } from '../../src/errors.js';
import { redact } from '../../src/log/redact.js';
import type { VendorExportStatus } from '../../src/ports/export-api.js';

const pending = new Set([
  'pending',
  'queued',
  'running',
  'inprogress',
  'processing',
  'started',
  'submitted',
  'new',
  'notstarted',
  'created',
  'accepted',
  'waiting',
  'scheduled',
]);
const done = new Set([
  'completed',
  'complete',
  'succeeded',
  'success',
  'successful',
  'finished',
  'ready',
  'done',
  'available',
]);
const failed = new Set([
  'failed',
  'failure',
  'error',
  'errored',
  'cancelled',
  'canceled',
  'expired',
  'aborted',
  'rejected',
]);

const statusKeys = ['status', 'state', 'exportstatus', 'jobstatus.status', 'jobstatus.state', 'job.status'];
const urlKeys = [
  'downloadurl',
  'url',
  'fileurl',
  'resultfileurl',
  'location',
  'jobstatus.result.url',
  'result.url',
  'href',
  'link',
];
const messageKeys = ['message', 'errormessage', 'error', 'jobstatus.result.errormessage', 'reason'];

/** Case-insensitive lookup of a dotted path in a JSON value. */
function lookup(body: unknown, dotted: string): unknown {
  let cur: unknown = body;
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    const key = Object.keys(cur).find((k) => k.toLowerCase() === part);
    if (key === undefined) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function firstString(body: unknown, keys: readonly string[]): string | undefined {
  for (const k of keys) {
    const v = lookup(body, k);
    if (typeof v === 'string' && v.trim() !== '') return v.trim();
  }
  return undefined;
}

/**
 * Reads the export status body, whose shape NICE has not published (docs/contract.md, "The vendor API"): a status
 * under `status`, `state`, `exportStatus` or `jobStatus.status`, a download URL under one of
 * several names. A body it cannot understand is an error that quotes it (secrets removed).
 */
export function parseExportStatus(body: unknown, rawText: string): VendorExportStatus {
  const envelope = lookup(body, 'data') ?? lookup(body, 'result');
  const sources = envelope && typeof envelope === 'object' ? [body, envelope] : [body];
  for (const src of sources) {
    const vendorStatus = firstString(src, statusKeys);
    const downloadUrl = firstString(src, urlKeys);
    const message = firstString(src, messageKeys);
    if (vendorStatus) {
      const norm = vendorStatus.toLowerCase().replace(/[\s_-]+/g, '');
      if (done.has(norm)) {
        if (!downloadUrl) {
          throw new StatusUnreadableError(
            `export status is ${vendorStatus} but the body has no download URL: ${quote(rawText)}`,
          );
        }
        return { state: 'done', vendorStatus, downloadUrl, ...(message ? { message } : {}) };
      }
      if (pending.has(norm)) return { state: 'pending', vendorStatus };
      if (failed.has(norm)) return { state: 'failed', vendorStatus, ...(message ? { message } : {}) };
      throw new StatusUnreadableError(
        `unrecognised export status ${JSON.stringify(vendorStatus)}: ${quote(rawText)}`,
      );
    }
    if (downloadUrl && /^https?:\/\//i.test(downloadUrl)) {
      return { state: 'done', vendorStatus: '(url only)', downloadUrl };
    }
  }
  throw new StatusUnreadableError(`unrecognised export status body: ${quote(rawText)}`);
}

function quote(text: string): string {
  const t = redact(text.length > 500 ? `${text.slice(0, 500)}…` : text);
  return JSON.stringify(t);
}
