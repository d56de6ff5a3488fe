import { defaultLedgerRetry } from '../engine/export-request.js';
import { runSync, type SyncSummary } from '../engine/sync-runner.js';
import { ConfigError, ExitCode } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { withContext } from './context.js';
import { emit, table } from './output.js';
import { handleStopSignals, stopGraceMs } from './stop-signals.js';

export interface SyncArgs {
  config?: string;
  json: boolean;
  stream?: string[];
  start?: string;
  end?: string;
  maxExports?: number;
  /** `--no-wait` sets it false: do not wait for a quota slot about to free. */
  wait?: boolean;
}

export function parseInstant(name: string, value: string): Date {
  const d = new Date(utcUnlessOffset(value));
  if (Number.isNaN(d.getTime()))
    throw new ConfigError(
      `--${name} ${JSON.stringify(value)} is not a date (use ISO 8601, e.g. 2026-11-01T00:00:00Z)`,
    );
  return d;
}

export async function syncCommand(args: SyncArgs, log: Logger): Promise<number> {
  if ((args.start === undefined) !== (args.end === undefined))
    throw new ConfigError('--start and --end go together');
  const window =
    args.start && args.end
      ? { start: parseInstant('start', args.start), end: parseInstant('end', args.end) }
      : undefined;
  if (args.maxExports !== undefined && (!Number.isInteger(args.maxExports) || args.maxExports < 0)) {
    throw new ConfigError('--max-exports must be a whole number, 0 or more');
  }
  // SIGTERM/SIGINT: finish what is in flight, then exit 75; after the grace, exit 75 anyway.
  const stop = handleStopSignals(log, (reason) => {
    const note = `${reason}; work in flight did not finish within ${stopGraceMs / 1000} s. Run again to resume it.`;
    log.error(note);
    emit({ command: 'sync', outcome: 'deferred', exitCode: ExitCode.deferred, note }, args.json, () => note);
    process.exit(ExitCode.deferred);
  });
  // The ledger write of an accepted export: its backoff base can be shortened (tests).
  const retryBase = Number(process.env.CXONE_OD_SYNC_LEDGER_RETRY_BASE_MS);
  const ledgerRetry =
    retryBase > 0 ? { ...defaultLedgerRetry, baseDelayMs: retryBase, maxDelayMs: retryBase * 16 } : undefined;
  return withContext(args.config, log, async (ctx) => {
    const config = ctx.config;
    const runId = await ctx.state.runs.start('sync', config.accountKey, ctx.clock.now());
    let summary: SyncSummary;
    try {
      summary = await runSync(ledgerRetry ? { ...ctx, ledgerRetry } : ctx, {
        ...(args.stream?.length ? { streams: args.stream } : {}),
        ...(window ? { window } : {}),
        ...(args.maxExports !== undefined ? { maxExports: args.maxExports } : {}),
        signal: stop.signal,
        runId,
        ...(args.wait === false ? { noWait: true } : {}),
      });
    } catch (err) {
      await ctx.state.runs
        .finish(runId, 'error', 1, { error: (err as Error).message }, ctx.clock.now())
        .catch(() => {});
      throw err;
    }
    await ctx.state.runs.finish(runId, summary.outcome, summary.exitCode, summary, ctx.clock.now());
    const interrupted = stop.signal.aborted
      ? { note: `${String(stop.signal.reason)}; run again to continue` }
      : {};
    emit({ ...summary, runId, ...interrupted }, args.json, () => humanSummary(summary));
    return summary.exitCode;
  }).finally(() => stop.dispose());
}

function humanSummary(s: SyncSummary): string {
  const rows = [['stream', 'state', 'exports', 'rows', 'note']];
  for (const st of s.streams) {
    const loaded = st.exports.reduce((n, e) => n + (e.rows ?? 0), 0);
    rows.push([st.stream, st.state, String(st.exports.length), String(loaded), st.error ?? st.note ?? '']);
  }
  const tail = s.nextSlotAt ? `\nnext quota slot: ${s.nextSlotAt}` : '';
  return `sync ${s.outcome}: ${s.exportsRequested} export(s) requested, ${s.rowsLoaded} row(s) loaded; quota ${s.quota.used}/${s.quota.limit} used in the last 24h\n${table(rows)}${tail}`;
}

/**
 * An ISO 8601 date or date-time as `Date` reads it in UTC: a time without `Z` or an offset is
 * UTC (not the host's time zone, which is how `Date` reads it), a date alone is its midnight
 * UTC. Anything else is left to fail as not a date.
 */
export function utcUnlessOffset(value: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(
    value.trim(),
  );
  if (!m) return 'invalid';
  return `${m[1]}T${m[2] ?? '00:00:00'}${m[3] ?? 'Z'}`;
}
