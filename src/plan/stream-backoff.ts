/**
 * Failure isolation per stream (issue 25): a stream the API refuses, or whose exports keep
 * failing at the vendor, waits on its own, so that the account's other streams get its quota
 * slots. Pure: which failures count, how long a stream waits, and what the summary says.
 *
 * - `not_exposed`: HTTP 403 or 404 on the export request (or another 4xx saying the table is not
 *   there, or a 401 with a fresh token while other streams work): the tenant does not have it
 *   (the vendor's page: the GR table exists "when your environment exposes the
 *   AutopilotKnowledge namespace"). Asked again once a day; meanwhile the other streams share
 *   the quota as if it were not configured.
 * - `refused`: another 4xx of an incremental request (a filter the API rejects): costs no quota,
 *   retried after an hour, doubling, at most a day. The 4-month rule's refusal is the window's,
 *   not the stream's: it fails the run, and the slot goes to the next stream all the same.
 * - `vendor_failed`: the API reported the stream's export failed; each costs a slot, so the stream
 *   waits 12 hours, then a day, on top of its fair-share turn.
 *
 * A backoff ends when the stream works again (the API accepts its request; for `vendor_failed`,
 * an export of it loads), by `unblock --stream S`, or when its request settings change (path,
 * time zone, channels, filters: a fixed config is tried at once).
 */

import { AuthError, ExportRefusedError, VendorExportFailedError } from '../errors.js';
import type { StreamConfig } from '../ports/run-settings.js';
import type { StreamBackoff, StreamBackoffReason } from '../ports/state-ports.js';

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;

/** A refusal that speaks of the table (or its namespace) ... */
const aboutTheTable = /\btable\b|namespace/i;
/** ... as not there for this tenant, whatever the status. */
const notThere =
  /not (available|exposed|enabled|licensed|provisioned)|does not exist|unknown table|no such table/i;

/** What a refusal's meaning depends on besides the error itself. */
export interface RefusalContext {
  /** The request was an explicit window (`--start/--end`), not the stream's incremental one. */
  readonly explicitWindow?: boolean;
  /** Another stream of the account got an export accepted lately: the credentials work. */
  readonly otherStreamsWork?: boolean;
}

/**
 * The failure of a request or an export that backs its stream off, or undefined (the failure
 * is the run's alone). A 401 with a fresh token on one table while the account's other streams
 * work is the access key not allowed to read that table: a table not exposed; when nothing works
 * it is the key, and every run fails as it should. A refusal of one window (the 4-month rule; any
 * 4xx of an explicit window but a table not there) is that window's, not the stream's.
 */
export function streamFailureReason(
  err: unknown,
  context: RefusalContext = {},
): StreamBackoffReason | undefined {
  if (err instanceof AuthError) return context.otherStreamsWork ? 'not_exposed' : undefined;
  if (err instanceof ExportRefusedError) {
    const tableNotThere =
      err.status === 403 ||
      err.status === 404 ||
      (aboutTheTable.test(err.message) && notThere.test(err.message));
    if (tableNotThere) return 'not_exposed';
    return context.explicitWindow ? undefined : 'refused';
  }
  if (err instanceof VendorExportFailedError) return 'vendor_failed';
  return undefined;
}

/** When a stream with `failures` in a row of `reason` may be tried again. */
export function nextStreamAttempt(reason: StreamBackoffReason, failures: number, now: Date): Date {
  const first = reason === 'not_exposed' ? dayMs : reason === 'refused' ? hourMs : 12 * hourMs;
  return new Date(now.getTime() + Math.min(dayMs, first * 2 ** (failures - 1)));
}

/** The settings a request of the stream is made of: a backoff holds only while they are the same. */
export function requestKey(stream: StreamConfig): string {
  return JSON.stringify({
    path: stream.apiPath,
    timeZone: stream.timeZone,
    channels: stream.schema.accepts.channels ? (stream.channels ?? null) : null,
    filters: stream.filters ?? null,
  });
}

/** The stream's backoff in force at `now`, if any (a row of other request settings is not). */
export function backoffInForce(
  row: StreamBackoff | undefined,
  stream: StreamConfig,
  now: Date,
): StreamBackoff | undefined {
  if (!row || row.nextAttemptAt <= now || row.requestKey !== requestKey(stream)) return undefined;
  return row;
}

/** The reasons a backoff ends for when the API accepts a request of the stream. */
export const endedByAcceptance: readonly StreamBackoffReason[] = ['not_exposed', 'refused'];

/** What the summary, `status` and `plan` say of a stream in backoff, in plain words, with the way out. */
export function streamBackoffNote(row: StreamBackoff, stream: StreamConfig): string {
  const until = row.nextAttemptAt.toISOString();
  const unblock = `\`unblock --stream ${row.stream}\` tries it at the next sync`;
  if (row.reason === 'not_exposed') {
    const other = stream.schema.apiPaths.find((p) => p !== stream.apiPath);
    return `the API does not expose ${stream.apiPath} to this tenant, or the access key may not read it (${row.error}); it is asked again once a day (next ${until}) and the other streams share the quota meanwhile. Set streams.${row.stream}.enabled: false if the tenant does not have it${other ? `, or streams.${row.stream}.path: ${other} if that is its name there` : ''}; ${unblock}`;
  }
  if (row.reason === 'refused')
    return `the API refused the stream's request ${row.failures} time(s) in a row (${row.error}); not asked again before ${until} while the other streams go on. Fix the setting the message names (a change of path, timeZone, channels or filters is tried at once); ${unblock}`;
  return `the API reported ${row.failures} export(s) of the stream failed in a row (${row.error}); each costs a quota slot, so it is not requested again before ${until} while the other streams go on; ${unblock}`;
}

/** The backoffs in force at `now` among `streams`, by stream. */
export function backoffsInForce(
  streams: readonly StreamConfig[],
  rows: ReadonlyMap<string, StreamBackoff>,
  now: Date,
): Map<string, StreamBackoff> {
  const inForce = new Map<string, StreamBackoff>();
  for (const s of streams) {
    const row = backoffInForce(rows.get(s.schema.name), s, now);
    if (row) inForce.set(s.schema.name, row);
  }
  return inForce;
}

/**
 * The streams that take a share of the quota: every one but those the API refuses (a table the
 * tenant does not expose is as if it were not configured). A stream whose exports fail at the
 * vendor keeps its share: it waits, and the others use its slots meanwhile.
 */
export function sharingStreams(
  streams: readonly StreamConfig[],
  inForce: ReadonlyMap<string, StreamBackoff>,
): StreamConfig[] {
  return streams.filter((s) => {
    const reason = inForce.get(s.schema.name)?.reason;
    return reason !== 'not_exposed' && reason !== 'refused';
  });
}
