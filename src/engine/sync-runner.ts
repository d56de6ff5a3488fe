import type { ResolvedConfig, StreamConfig } from '../config/load-config.js';
import {
  ApiError,
  ConfigError,
  ExitCode,
  HorizonError,
  isSyncError,
  PlanError,
  QuotaExhaustedError,
} from '../errors.js';
import { redact } from '../log/redact.js';
import { claimHost } from '../state/export-ledger.js';
import type { ExportRow } from '../state/state-tables.js';
import { type DriveOutcome, driveExport, type LifecycleDeps, pruneArchive } from './export-lifecycle.js';
import { planExplicit, planStream, type StreamPlan, stalestFirst, type Window } from './planner.js';

export interface SyncOptions {
  /** Only these streams (default: every enabled stream). */
  readonly streams?: readonly string[];
  /** An explicit window (Airflow data interval), instead of the incremental one. */
  readonly window?: Window;
  /** At most this many new export requests in this run. */
  readonly maxExports?: number;
}

export type StreamState = 'done' | 'nothing_due' | 'deferred' | 'failed';

export interface ExportSummary {
  readonly ledgerId: string;
  readonly exportId: string | null;
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly status: string;
  readonly rows?: number;
  readonly rejected?: number;
  readonly error?: string;
}

export interface StreamSummary {
  stream: string;
  state: StreamState;
  exports: ExportSummary[];
  gaps: { start: string; end: string; reason: string }[];
  note?: string;
  error?: string;
}

export interface SyncSummary {
  readonly command: 'sync';
  readonly outcome: 'done' | 'deferred' | 'failed';
  readonly exitCode: number;
  readonly account: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly exportsRequested: number;
  readonly rowsLoaded: number;
  readonly quota: { limit: number; used: number; nextSlotAt: string | null; blockedUntil: string | null };
  readonly nextSlotAt: string | null;
  readonly streams: StreamSummary[];
}

export interface SyncDeps extends LifecycleDeps {
  readonly config: ResolvedConfig;
  /** Exports polled, downloaded and loaded at once (default 4). */
  readonly parallelExports?: number;
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

function exportSummary(row: ExportRow, extra: Partial<ExportSummary> = {}): ExportSummary {
  return {
    ledgerId: row.id,
    exportId: row.vendor_export_id,
    windowStart: row.window_start.toISOString(),
    windowEnd: row.window_end.toISOString(),
    status: row.status,
    ...(row.rows !== null ? { rows: Number(row.rows) } : {}),
    ...(row.rejected_rows !== null ? { rejected: Number(row.rejected_rows) } : {}),
    ...(row.error && row.status !== 'loaded' ? { error: row.error } : {}),
    ...extra,
  };
}

/**
 * One sync (SPEC section 3): finish every unfinished export first, then plan the due windows,
 * reserve quota slots stalest stream first, request, and drive each export to loaded. Returns a
 * summary whose `exitCode` follows SPEC section 6.
 */
export async function runSync(deps: SyncDeps, options: SyncOptions = {}): Promise<SyncSummary> {
  const { config, state, clock, log } = deps;
  const startedAt = clock.now();
  const account = config.accountKey;
  const limit = config.raw.account.exportsPer24h;
  const rule = {
    historyAuthorized: config.raw.account.historyAuthorized,
    marginDays: config.raw.account.horizonMarginDays,
  };

  let streams = config.streams;
  if (options.streams?.length) {
    const unknown = options.streams.filter((s) => !config.streams.some((c) => c.schema.name === s));
    if (unknown.length) {
      throw new ConfigError(
        `--stream ${unknown.join(', ')}: not an enabled stream; enabled: ${config.streams.map((s) => s.schema.name).join(', ') || '(none)'}`,
      );
    }
    streams = config.streams.filter((s) => options.streams!.includes(s.schema.name));
  }
  const byName = new Map(streams.map((s) => [s.schema.name, s]));
  const summaries = new Map<string, StreamSummary>(
    streams.map((s) => [
      s.schema.name,
      { stream: s.schema.name, state: 'nothing_due', exports: [], gaps: [] },
    ]),
  );
  const summary = (name: string) => summaries.get(name)!;
  let rowsLoaded = 0;
  let exportsRequested = 0;
  let nextSlotAt: Date | null = null;

  const record = (outcome: DriveOutcome) => {
    const s = summary(outcome.exportRow.stream);
    if (outcome.kind === 'loaded') {
      rowsLoaded += outcome.load.rows;
      s.exports.push(
        exportSummary(outcome.exportRow, { rows: outcome.load.rows, rejected: outcome.load.rejected }),
      );
      if (s.state === 'nothing_due') s.state = 'done';
    } else if (outcome.kind === 'abandoned') {
      s.exports.push(exportSummary(outcome.exportRow));
      s.note = outcome.reason;
    } else if (outcome.kind === 'in_flight') {
      s.exports.push(exportSummary(outcome.exportRow));
      if (s.state !== 'failed') s.state = 'deferred';
      s.note = outcome.reason;
    } else {
      s.exports.push(exportSummary(outcome.exportRow, { error: redact(outcome.error.message) }));
      s.state = 'failed';
      s.error = redact(outcome.error.message);
      log.error('export failed', {
        stream: s.stream,
        export: outcome.exportRow.id,
        retryable: outcome.retryable,
        error: s.error,
      });
    }
  };

  const drive = async (row: ExportRow): Promise<void> => {
    const stream = byName.get(row.stream)!;
    try {
      record(await driveExport(row, stream, deps));
    } catch (err) {
      const s = summary(row.stream);
      s.state = 'failed';
      s.error = redact((err as Error).message);
      s.exports.push(exportSummary((await state.exports.get(row.id)) ?? row, { error: s.error }));
      log.error('export failed', { stream: row.stream, export: row.id, error: s.error });
    } finally {
      await state.exports.release(row.id, deps.owner).catch(() => {});
    }
  };

  // 1. Resume: every unfinished export of these streams, before any quota is spent.
  const unfinished = await state.exports.unfinished(account, [...byName.keys()]);
  const resumable: ExportRow[] = [];
  for (const row of unfinished) {
    const claimed = await state.exports.claim(row.id, deps.owner, clock.now());
    if (!claimed) {
      const s = summary(row.stream);
      s.state = 'deferred';
      s.note = `export ${row.id} is being worked on by another process (${claimHost(row) ?? 'unknown host'})`;
      continue;
    }
    log.info('resuming unfinished export', { stream: row.stream, export: row.id, status: row.status });
    resumable.push(claimed);
  }
  await eachLimited(resumable, deps.parallelExports ?? 4, drive);

  // 2. Plan, reserve and request, stalest stream first, until nothing more can be done.
  const plans = new Map<string, StreamPlan>();
  const watermarks = await state.watermarks.byStream(account);
  for (const s of streams) {
    const name = s.schema.name;
    if (summary(name).state === 'failed' || summary(name).state === 'deferred') continue;
    let plan: StreamPlan;
    try {
      plan = options.window
        ? planExplicit(name, options.window, s.maxWindowDays, clock.now(), rule)
        : planStream(
            {
              stream: name,
              watermark: watermarks.get(name),
              start: s.start,
              lookbackMs: s.lookbackMs,
              settleMs: s.settleMs,
              maxWindowDays: s.maxWindowDays,
            },
            clock.now(),
            rule,
          );
    } catch (err) {
      if (err instanceof PlanError) throw new ConfigError(err.message, { cause: err });
      throw err;
    }
    for (const g of plan.gaps) {
      await state.watermarks.recordGap(account, name, g.start, g.end, g.reason, clock.now());
      summary(name).gaps.push({ start: g.start.toISOString(), end: g.end.toISOString(), reason: g.reason });
      log.warn('gap recorded', { stream: name, start: g.start, end: g.end, reason: g.reason });
    }
    if (plan.note) summary(name).note = plan.note;
    plans.set(name, plan);
  }
  if (options.window) {
    // An explicit window already loaded is not requested again (an orchestrator's rerun).
    for (const [name, plan] of plans) {
      const remaining = [];
      for (const w of plan.windows) {
        const prior = await state.exports.loadedFor(account, name, w);
        if (prior) {
          summary(name).exports.push(exportSummary(prior));
          summary(name).note =
            `window already loaded by export ${prior.id}; use replay --export ${prior.id} to load it again`;
          if (summary(name).state === 'nothing_due') summary(name).state = 'done';
        } else remaining.push(w);
      }
      plans.set(name, { ...plan, windows: remaining });
    }
  }

  const queue = new Map<string, Window[]>([...plans].map(([n, p]) => [n, [...p.windows]]));
  let quotaStop: QuotaExhaustedError | undefined;
  for (;;) {
    const due = stalestFirst(
      [...queue]
        .filter(
          ([n, ws]) => ws.length > 0 && summary(n).state !== 'failed' && summary(n).state !== 'deferred',
        )
        .map(([stream]) => ({ stream, watermark: watermarks.get(stream) })),
    );
    if (due.length === 0 || quotaStop) break;
    const inFlight: ExportRow[] = [];
    for (const { stream: name } of due) {
      if (options.maxExports !== undefined && exportsRequested >= options.maxExports) {
        summary(name).state = 'deferred';
        summary(name).note = `--max-exports ${options.maxExports} reached`;
        continue;
      }
      if (quotaStop) {
        summary(name).state = 'deferred';
        summary(name).note = quotaStop.message;
        continue;
      }
      const stream = byName.get(name)!;
      const window = queue.get(name)!.shift()!;
      const requested = await requestOne(deps, stream, window, limit);
      if (requested.kind === 'quota') {
        quotaStop = requested.error;
        nextSlotAt = requested.error.nextSlotAt;
        queue.get(name)!.unshift(window);
        summary(name).state = 'deferred';
        summary(name).note = requested.error.message;
        continue;
      }
      if (requested.kind === 'busy') {
        summary(name).state = 'deferred';
        summary(name).note = 'another process has an unfinished export for this stream';
        continue;
      }
      if (requested.kind === 'failed') {
        summary(name).state = 'failed';
        summary(name).error = requested.error;
        if (requested.row) summary(name).exports.push(exportSummary(requested.row));
        continue;
      }
      exportsRequested++;
      inFlight.push(requested.row);
    }
    await eachLimited(inFlight, deps.parallelExports ?? 4, drive);
    if (inFlight.length === 0) break;
  }
  // Streams that still have windows queued (split windows beyond the quota) are deferred.
  for (const [name, ws] of queue) {
    if (ws.length > 0 && summary(name).state === 'done') {
      summary(name).state = 'deferred';
      summary(name).note = `${ws.length} more window(s) due`;
    }
  }

  const pruned = await pruneArchive(state, account, config.raw.archive.keepDays, clock.now());
  if (pruned) log.info('archive pruned', { files: pruned, keepDays: config.raw.archive.keepDays });
  const quota = await state.quota.view(account, limit, clock.now());
  nextSlotAt ??= quota.blockedUntil ?? quota.nextSlotAt;
  const list = [...summaries.values()];
  const failed = list.some((s) => s.state === 'failed');
  const deferred = list.some((s) => s.state === 'deferred');
  const outcome = failed ? 'failed' : deferred ? 'deferred' : 'done';
  return {
    command: 'sync',
    outcome,
    exitCode: failed ? ExitCode.failed : deferred ? ExitCode.deferred : ExitCode.done,
    account,
    startedAt: startedAt.toISOString(),
    endedAt: clock.now().toISOString(),
    exportsRequested,
    rowsLoaded,
    quota: {
      limit,
      used: quota.used,
      nextSlotAt: quota.nextSlotAt?.toISOString() ?? null,
      blockedUntil: quota.blockedUntil?.toISOString() ?? null,
    },
    nextSlotAt: deferred || failed ? (nextSlotAt?.toISOString() ?? null) : null,
    streams: list,
  };
}

type RequestResult =
  | { kind: 'submitted'; row: ExportRow }
  | { kind: 'quota'; error: QuotaExhaustedError }
  | { kind: 'busy' }
  | { kind: 'failed'; error: string; row?: ExportRow };

/** Reserves a slot (ledger row first), sends the request, records the answer. */
async function requestOne(
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
