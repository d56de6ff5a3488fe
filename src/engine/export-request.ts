import type { StreamConfig } from '../config/load-config.js';
import { ApiError, HorizonError, isSyncError, QuotaExhaustedError } from '../errors.js';
import { redact } from '../log/redact.js';
import type { Window } from '../model/window.js';
import type { ExportRow } from '../state/state-tables.js';
import type { SyncDeps } from './sync-runner.js';

/** What became of one export request. */
export type RequestResult =
  | { kind: 'submitted'; row: ExportRow }
  | { kind: 'quota'; error: QuotaExhaustedError }
  | { kind: 'busy' }
  | { kind: 'failed'; error: string; row?: ExportRow };

/**
 * Reserves a quota slot and writes the ledger row (with the request body and file name) before
 * the request is sent, sends it, and records the vendor's answer. A vendor quota refusal blocks
 * the account until a slot frees; a refusal (4xx) counts no quota; an unconfirmed request
 * (network, 5xx) may have been accepted and stays counted.
 */
export async function requestExport(
  deps: SyncDeps,
  stream: StreamConfig,
  window: Window,
  limit: number,
): Promise<RequestResult> {
  const { state, clock, client, config, log } = deps;
  const prepared = client.prepare({
    apiPath: stream.apiPath,
    stream: stream.schema.name,
    window,
    timeZone: stream.timeZone,
    channels: stream.schema.accepts.channels ? stream.channels : undefined,
    filters: stream.filters,
  });
  const reservation = await state.quota.reserveExport(
    {
      account: config.accountKey,
      stream: stream.schema.name,
      api_path: stream.apiPath,
      window_start: window.start,
      window_end: window.end,
      time_zone: stream.timeZone,
      request_body: prepared.requestBody,
      file_name: prepared.fileName,
    },
    limit,
    clock.now(),
    deps.owner,
  );
  if (reservation.kind === 'exhausted') return { kind: 'quota', error: reservation.error };
  if (reservation.kind === 'busy') return { kind: 'busy' };
  let row = reservation.row;
  log.info('requesting export', { stream: row.stream, export: row.id, start: window.start, end: window.end });
  try {
    const submitted = await client.submit(prepared);
    const now = clock.now();
    row = await state.exports.update(
      row.id,
      {
        status: 'submitted',
        vendor_export_id: submitted.exportId,
        status_url: submitted.statusUrl,
        submitted_at: now,
      },
      now,
    );
    log.info('export submitted', { stream: row.stream, export: row.id, exportId: submitted.exportId });
    return { kind: 'submitted', row };
  } catch (err) {
    const message = redact((err as Error).message);
    const now = clock.now();
    if (err instanceof QuotaExhaustedError) {
      // The vendor refused: nothing was created, so the slot is not ours; stop until one frees.
      await state.exports.update(
        row.id,
        { status: 'failed', counts_quota: false, error: message, retryable: true },
        now,
      );
      const { until, used } = await state.quota.recordVendorRefusal(config.accountKey, message, now);
      log.warn('the API reports its export quota used up', { until, usedHere: used });
      return {
        kind: 'quota',
        error: new QuotaExhaustedError(
          until,
          `${message}; nothing is requested before ${until.toISOString()}`,
          { cause: err },
        ),
      };
    }
    // A refusal (4xx) created nothing; an unconfirmed request (network, 5xx) may have.
    const refused =
      err instanceof HorizonError || (err instanceof ApiError && err.status !== null && err.status < 500);
    row = await state.exports.update(
      row.id,
      {
        status: 'failed',
        counts_quota: !refused,
        error: message,
        retryable: isSyncError(err) ? err.retryable : true,
      },
      now,
    );
    log.error('export request failed', { stream: row.stream, export: row.id, error: message });
    return { kind: 'failed', error: message, row };
  }
}
