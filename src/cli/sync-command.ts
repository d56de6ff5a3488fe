import { readIsoInstant } from '../config/iso-instant.js';
import { defaultLedgerRetry } from '../engine/export-request.js';
import { eachLimited, runSync, type SyncSummary } from '../engine/sync-runner.js';
import { ConfigError, ExitCode, errorReport, exitCodeOf, worstExitCode } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { redact } from '../log/redact.js';
import { accountsForStreams, type Context, withDeployment } from './context.js';
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
  /** `--account`: only these accounts (default: all). */
  account?: string[];
}

/**
 * A date flag (`--start`, `--end`, `--to`): ISO 8601, UTC unless it has an offset, a date alone
 * its midnight UTC (readIsoInstant); a date the calendar does not have is refused, not rolled over.
 */
export function parseInstant(name: string, value: string): Date {
  const read = readIsoInstant(value);
  if ('problem' in read)
    throw new ConfigError(
      `--${name} ${JSON.stringify(value)} is not a date: ${read.problem} (use ISO 8601, e.g. 2026-11-01T00:00:00Z)`,
    );
  return read.date;
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
  const options = {
    ...(window ? { window } : {}),
    ...(args.maxExports !== undefined ? { maxExports: args.maxExports } : {}),
    signal: stop.signal,
    ...(args.wait === false ? { noWait: true } : {}),
  };
  return withDeployment(args.config, log, args.account, async (d) => {
    const syncAccount = async (
      ctx: Context,
      streams: readonly string[] | undefined,
    ): Promise<SyncSummary & { runId: string }> => {
      const runId = await ctx.state.runs.start('sync', ctx.config.accountKey, ctx.clock.now());
      try {
        const summary = await runSync(ledgerRetry ? { ...ctx, ledgerRetry } : ctx, {
          ...options,
          ...(streams?.length ? { streams } : {}),
          runId,
        });
        await ctx.state.runs.finish(runId, summary.outcome, summary.exitCode, summary, ctx.clock.now());
        return { ...summary, runId };
      } catch (err) {
        await ctx.state.runs
          .finish(runId, 'error', exitCodeOf(err), { error: redact((err as Error).message) }, ctx.clock.now())
          .catch(() => {});
        throw err;
      }
    };
    const interrupted = () =>
      stop.signal.aborted ? { note: `${String(stop.signal.reason)}; run again to continue` } : {};
    if (!d.config.raw.accounts) {
      // One account (`account:`): the summary as it always was; an error ends the command.
      const summary = await syncAccount(d.accounts[0]!, args.stream);
      const result = { ...summary, ...interrupted() };
      emit(result, args.json, () => humanSummary(summary));
      return summary.exitCode;
    }
    // Several accounts: each on its own, `parallelAccounts` at a time; one that fails (its
    // credentials, its API) does not stop the others, and the exit code is the worst outcome.
    const results: AccountResult[] = [];
    await eachLimited(
      accountsForStreams(d, args.stream).map((a, i) => ({ ...a, i })),
      d.config.parallelAccounts,
      async ({ ctx, streams, i }) => {
        results[i] = await syncAccount(ctx, streams).catch((err: unknown) =>
          accountError(ctx.config.accountKey, err, ctx.log),
        );
      },
    );
    const result = deploymentSummary(results);
    emit({ ...result, ...interrupted() }, args.json, () =>
      results
        .map((r) =>
          isSummary(r)
            ? `account ${r.account}: ${humanSummary(r)}`
            : `account ${r.account}: error: ${r.error.message}`,
        )
        .join('\n\n'),
    );
    return result.exitCode;
  }).finally(() => stop.dispose());
}

/** An account's sync that ended in an error (bad credentials, its API or its state unreachable). */
export interface AccountError {
  readonly account: string;
  readonly outcome: 'error';
  readonly exitCode: number;
  readonly error: { readonly type: string; readonly message: string; readonly retryable: boolean | null };
}

type AccountResult = (SyncSummary & { runId: string }) | AccountError;

const isSummary = (r: AccountResult): r is SyncSummary & { runId: string } => r.outcome !== 'error';

function accountError(account: string, err: unknown, log: Logger): AccountError {
  const message = redact(`account ${account}: ${err instanceof Error ? err.message : String(err)}`);
  log.error(message);
  return { account, outcome: 'error', exitCode: exitCodeOf(err), error: errorReport(err, message) };
}

/** The JSON summary of a sync of several accounts: the worst outcome, totals, one entry per account. */
function deploymentSummary(results: readonly AccountResult[]) {
  const exitCode = worstExitCode(results.map((r) => r.exitCode));
  const outcome =
    exitCode === ExitCode.done
      ? 'done'
      : exitCode === ExitCode.deferred
        ? 'deferred'
        : exitCode === ExitCode.usage
          ? 'error'
          : 'failed';
  const summaries = results.filter(isSummary);
  return {
    command: 'sync' as const,
    outcome,
    exitCode,
    exportsRequested: summaries.reduce((n, s) => n + s.exportsRequested, 0),
    rowsLoaded: summaries.reduce((n, s) => n + s.rowsLoaded, 0),
    accounts: results,
  };
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
