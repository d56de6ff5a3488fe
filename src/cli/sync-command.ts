import { accountsForStreams, type Context, withDeployment } from '../deployment/deployment.js';
import { ConfigError, ExitCode, errorReport, exitCodeOf, worstExitCode } from '../errors.js';
import { defaultLedgerRetry } from '../export/export-request.js';
import type { Logger } from '../log/logger.js';
import { redact } from '../log/redact.js';
import { eachLimited } from '../run/each-limited.js';
import { runSync, type StreamSummary, type SyncSummary } from '../run/sync-runner.js';
import { type SyncOutput, type SyncSoFar, syncSoFar } from '../run/sync-summary.js';
import { defineCommand, parseWindowArgs, windowOptions } from './cli-command.js';
import { emit, table } from './output.js';
import { configuredStopGraceMs, handleStopSignals } from './stop-signals.js';

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

export async function syncCommand(args: SyncArgs, log: Logger): Promise<number> {
  const window = parseWindowArgs(args);
  if (args.maxExports !== undefined && (!Number.isInteger(args.maxExports) || args.maxExports < 0)) {
    throw new ConfigError('--max-exports must be a whole number, 0 or more');
  }
  // SIGTERM/SIGINT: finish what is in flight, then exit 75; after the grace, print the summary
  // and exit 75, but only once an export request in flight has its answer recorded.
  const graceMs = configuredStopGraceMs();
  let summaryPrinted = false;
  const stop = handleStopSignals(
    log,
    (reason) => {
      const waiting = stop.requests.count;
      const note = `${reason}; work in flight did not finish within ${graceMs / 1000} s. Run again to resume it.${waiting ? ` Waiting for the API's answer to the export request in flight, to record it, before exiting.` : ''}`;
      log.error(note);
      emit(
        { command: 'sync', outcome: 'deferred', exitCode: ExitCode.deferred, note },
        args.json,
        () => note,
      );
      summaryPrinted = true;
      void stop.requests.settled().then(() => {
        if (waiting) log.warn('the export request in flight is settled; exiting');
        process.exit(ExitCode.deferred);
      });
    },
    graceMs,
  );
  // The summary of the run, unless the grace's end printed one already (one document on stdout).
  const print = (value: unknown, human: () => string) => {
    if (!summaryPrinted) emit(value, args.json, human);
  };
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
    const several = Boolean(d.config.raw.accounts);
    const syncAccount = async (
      ctx: Context,
      streams: readonly string[] | undefined,
    ): Promise<AccountResult> => {
      const runId = await ctx.state.runs.start('sync', ctx.config.accountKey, ctx.clock.now());
      let summary: SyncSummary;
      try {
        summary = await runSync(
          { ...ctx, ...(ledgerRetry ? { ledgerRetry } : {}), requestsInFlight: stop.requests },
          { ...options, ...(streams?.length ? { streams } : {}), runId },
        );
      } catch (err) {
        await ctx.state.runs
          .finish(runId, 'error', exitCodeOf(err), { error: redact((err as Error).message) }, ctx.clock.now())
          .catch(() => {});
        // A run an error ended part-way (the state store lost): its summary so far, with the error.
        const soFar = syncSoFar(err);
        if (!soFar) throw err;
        return { ...endedWith(err, several ? ctx.config.accountKey : undefined, ctx.log, soFar), runId };
      }
      // The run log is bookkeeping: a store lost at this point does not take the summary with it.
      await ctx.state.runs
        .finish(runId, summary.outcome, summary.exitCode, summary, ctx.clock.now())
        .catch((err: unknown) =>
          ctx.log.warn('could not record the run in the run log', { error: redact((err as Error).message) }),
        );
      return { ...summary, runId };
    };
    const interrupted = () =>
      stop.signal.aborted ? { note: `${String(stop.signal.reason)}; run again to continue` } : {};
    if (!several) {
      // One account (`account:`): the summary as it always was; an error ends the command (with
      // the summary so far when the run had begun).
      const result = await syncAccount(d.accounts[0]!, args.stream);
      print({ ...(isSummary(result) ? result : { command: 'sync', ...result }), ...interrupted() }, () =>
        humanResult(result),
      );
      return result.exitCode;
    }
    // Several accounts: each on its own, `parallelAccounts` at a time; one that fails (its
    // credentials, its API) does not stop the others, and the exit code is the worst outcome.
    const results: AccountResult[] = [];
    await eachLimited(
      accountsForStreams(d, args.stream).map((a, i) => ({ ...a, i })),
      d.config.parallelAccounts,
      async ({ ctx, streams, i }) => {
        results[i] = await syncAccount(ctx, streams).catch((err: unknown) =>
          endedWith(err, ctx.config.accountKey, ctx.log),
        );
      },
    );
    const result = deploymentSummary(results);
    print({ ...result, ...interrupted() }, () =>
      results.map((r) => `account ${r.account}: ${humanResult(r)}`).join('\n\n'),
    );
    return result.exitCode;
  }).finally(() => stop.dispose());
}

/**
 * An account's sync that ended in an error (bad credentials, its API or its state unreachable);
 * with what it had done until then (its streams so far) when the run had begun.
 */
export interface AccountError extends Partial<SyncSoFar> {
  readonly account: string;
  readonly outcome: 'error';
  readonly exitCode: number;
  readonly error: { readonly type: string; readonly message: string; readonly retryable: boolean | null };
  readonly runId?: string;
}

type AccountResult = SyncOutput | AccountError;

const isSummary = (r: AccountResult): r is SyncOutput => r.outcome !== 'error';

/**
 * The result of a run `err` ended, logged; its message starts `account KEY:` for one of several
 * accounts (`account` given). `soFar`: what the run had done.
 */
function endedWith(err: unknown, account: string | undefined, log: Logger, soFar?: SyncSoFar): AccountError {
  const what = err instanceof Error ? err.message : String(err);
  const message = redact(account !== undefined ? `account ${account}: ${what}` : what);
  log.error(message);
  return {
    account: soFar?.account ?? account ?? '',
    ...soFar,
    outcome: 'error',
    exitCode: exitCodeOf(err),
    error: errorReport(err, message),
  };
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
  return {
    command: 'sync' as const,
    outcome,
    exitCode,
    exportsRequested: results.reduce((n, s) => n + (s.exportsRequested ?? 0), 0),
    rowsLoaded: results.reduce((n, s) => n + (s.rowsLoaded ?? 0), 0),
    accounts: results,
  };
}

/** A run's result as text: its summary, or its error (with its streams so far). */
function humanResult(r: AccountResult): string {
  if (isSummary(r)) return humanSummary(r);
  const head = `sync error: ${r.error.message}`;
  return r.streams ? `${head}\n${streamTable(r.streams)}` : head;
}

function humanSummary(s: SyncSummary): string {
  const tail = s.nextSlotAt ? `\nnext quota slot: ${s.nextSlotAt}` : '';
  return `sync ${s.outcome}: ${s.exportsRequested} export(s) requested, ${s.rowsLoaded} row(s) loaded; quota ${s.quota.used}/${s.quota.limit} used in the last 24h\n${streamTable(s.streams)}${tail}`;
}

function streamTable(streams: readonly StreamSummary[]): string {
  const rows = [['stream', 'state', 'exports', 'rows', 'note']];
  for (const st of streams) {
    const loaded = st.exports.reduce((n, e) => n + (e.rows ?? 0), 0);
    rows.push([st.stream, st.state, String(st.exports.length), String(loaded), st.error ?? st.note ?? '']);
  }
  return table(rows);
}

export const syncCli = defineCommand({
  command: 'sync',
  describe: 'resume unfinished exports, then request what is due within quota',
  builder: (y) =>
    windowOptions(y)
      .option('max-exports', { type: 'number', describe: 'at most N new export requests' })
      .option('wait', {
        type: 'boolean',
        default: true,
        describe:
          'wait for a quota slot about to free: up to 10 minutes, or an eighth of the time between runs when longer, at most an hour (--no-wait: exit 75 at once)',
      }),
  run: (a, log) => syncCommand(a, log),
});
