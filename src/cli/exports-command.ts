import { rm } from 'node:fs/promises';
import { type Context, type Deployment, withDeployment } from '../deployment/deployment.js';
import { ConfigError, ExitCode, ExportBusyError } from '../errors.js';
import { clearedFailures, inBackoff } from '../export/export-backoff.js';
import type { Logger } from '../log/logger.js';
import { claimHost } from '../state/export-ledger.js';
import { isUniqueViolation } from '../state/sql-pool.js';
import type { ExportPatch, ExportRow } from '../state/state-tables.js';
import { emit, table } from './output.js';

export interface ExportsArgs {
  config?: string;
  json: boolean;
  action?: string;
  id?: string;
  stream?: string[];
  status?: string[];
  reason?: string;
  limit?: number;
  /** `--account`: only these accounts (default: all). */
  account?: string[];
}

/** One ledger row as `exports` shows it. */
function rowView(r: ExportRow, now: Date) {
  return {
    ledgerId: r.id,
    stream: r.stream,
    windowStart: r.window_start.toISOString(),
    windowEnd: r.window_end.toISOString(),
    status: r.status,
    exportId: r.vendor_export_id,
    attempts: r.attempts,
    failures: r.failures,
    error: r.error,
    nextAttemptAt: r.next_attempt_at?.toISOString() ?? null,
    inBackoff: inBackoff(r, now),
    claimedBy: claimHost(r),
    updatedAt: r.updated_at.toISOString(),
  };
}

/**
 * The operator's way out of a stuck export. `exports` lists ledger rows; `exports retry ID` puts
 * an export the vendor made back to `submitted` (its file dropped, its backoff and attempts
 * cleared), so that the next sync downloads it again through the status endpoint, with no new
 * request; `exports abandon ID --reason TEXT` marks it `failed` so that its window is planned
 * again (its quota slot stays counted: it was spent). Both hold the row's claim while they write,
 * refuse while another process holds it, and are recorded in the run log and on the row.
 */
export async function exportsCommand(args: ExportsArgs, log: Logger): Promise<number> {
  if (args.limit !== undefined && (!Number.isInteger(args.limit) || args.limit < 1))
    throw new ConfigError('--limit must be a whole number, 1 or more');
  if (args.id !== undefined && /^\d+$/.test(args.id) && args.id.length > 18)
    throw new ConfigError(`no export ${args.id}: ledger ids are at most 18 digits (see \`exports\`)`);
  return withDeployment(args.config, log, args.account, async (d) => {
    const action = args.action ?? 'list';
    if (action === 'list') return list(d, args);
    if (!args.id)
      throw new ConfigError(`exports ${action} needs a ledger id (the first column of \`exports\`)`);
    if (action === 'abandon' && !args.reason?.trim())
      throw new ConfigError('exports abandon needs --reason TEXT (it is recorded with the export)');
    const row = /^\d+$/.test(args.id)
      ? await d.state.exports.get(args.id)
      : await d.state.exports.findByVendorId(args.id);
    const ctx = d.accounts.find((c) => c.config.accountKey === row?.account);
    if (!row || !ctx)
      throw new ConfigError(
        `no export ${args.id} in the ledger of account ${d.accounts.map((c) => c.config.accountKey).join(', ')} (see \`exports\`)`,
      );
    const patch = action === 'retry' ? retryPatch(row) : abandonPatch(row, args.reason!.trim());
    return act(ctx, args, action, row, patch);
  });
}

async function list(d: Deployment, args: ExportsArgs): Promise<number> {
  const now = d.clock.now();
  const many = d.config.raw.accounts !== undefined;
  const rows = await d.state.exports.list(
    d.accounts.map((c) => c.config.accountKey),
    {
      ...(args.stream?.length ? { streams: args.stream } : {}),
      ...(args.status?.length ? { statuses: args.status } : {}),
      limit: args.limit ?? 50,
    },
  );
  const exports = rows.map((r) => ({ ...(many ? { account: r.account } : {}), ...rowView(r, now) }));
  const head = many
    ? { accounts: d.accounts.map((c) => c.config.accountKey) }
    : { account: d.accounts[0]!.config.accountKey };
  emit({ command: 'exports', ...head, exports }, args.json, () =>
    exports.length === 0
      ? 'no exports in the ledger'
      : table([
          [
            ...(many ? ['account'] : []),
            'id',
            'stream',
            'window',
            'status',
            'vendor id',
            'attempts',
            'next retry',
            'error',
          ],
          ...exports.map((e) => [
            ...(many ? [e.account ?? ''] : []),
            e.ledgerId,
            e.stream,
            `${e.windowStart}..${e.windowEnd}`,
            e.status,
            e.exportId ?? '-',
            String(e.attempts),
            e.inBackoff ? `${e.nextAttemptAt} (${e.failures} failures)` : '-',
            e.error ?? '',
          ]),
        ]),
  );
  return ExitCode.done;
}

function retryPatch(row: ExportRow): ExportPatch {
  if (!row.vendor_export_id || !row.status_url)
    throw new ConfigError(
      `export ${row.id} has no vendor export to download again (status ${row.status}${row.api_path === 'load-file' ? ', a file loaded by hand: run load-file again' : ''}); \`exports abandon ${row.id} --reason TEXT\` gives it up`,
    );
  if (row.status === 'reserved')
    throw new ConfigError(
      `export ${row.id} was never confirmed by the API; the next sync gives it up by itself`,
    );
  if (row.status === 'loaded')
    throw new ConfigError(
      `export ${row.id} is loaded; \`replay --export ${row.id}\` loads its archived file again (a download would overwrite newer rows of the window's lookback with older ones)`,
    );
  return {
    status: 'submitted',
    archive_path: null,
    bytes: null,
    sha256: null,
    attempts: 0,
    retryable: null,
    ...clearedFailures,
    error: `retry asked by an operator (exports retry) at status ${row.status}${row.error ? `; last error: ${row.error}` : ''}`,
  };
}

function abandonPatch(row: ExportRow, reason: string): ExportPatch {
  if (row.status === 'loaded')
    throw new ConfigError(
      `export ${row.id} is loaded; nothing to abandon (reset --stream ${row.stream} moves the watermark back)`,
    );
  return {
    status: 'failed',
    retryable: false,
    next_attempt_at: null,
    error: `abandoned by an operator (exports abandon): ${reason}${row.error ? `; last error: ${row.error}` : ''}`,
  };
}

async function act(
  ctx: Context,
  args: ExportsArgs,
  action: string,
  row: ExportRow,
  patch: ExportPatch,
): Promise<number> {
  const { state, clock } = ctx;
  const claimed = await state.exports.claim(row.id, ctx.owner, clock.now());
  if (!claimed)
    throw new ExportBusyError(
      `export ${row.id} is being worked on by another process (${claimHost(row) ?? 'unknown host'}); run exports ${action} again when it is done`,
    );
  const runId = await state.runs.start(`exports ${action}`, ctx.config.accountKey, clock.now());
  let updated: ExportRow;
  try {
    updated = await state.exports.update(row.id, patch, clock.now());
  } catch (err) {
    await state.runs.finish(runId, 'error', ExitCode.usage, { ledgerId: row.id, action }, clock.now());
    if (isUniqueViolation(err))
      throw new ConfigError(
        `export ${row.id}: another unfinished export of the same window is in the ledger (see \`exports --stream ${row.stream}\`)`,
      );
    throw err;
  } finally {
    await state.exports.release(row.id, ctx.owner);
  }
  if (action === 'retry' && claimed.archive_path) await rm(claimed.archive_path, { force: true });
  const result = {
    command: `exports ${action}`,
    outcome: 'done',
    exitCode: ExitCode.done,
    was: claimed.status,
    ...(args.reason ? { reason: args.reason } : {}),
    export: rowView(updated, clock.now()),
  };
  await state.runs.finish(runId, 'done', ExitCode.done, result, clock.now());
  emit(result, args.json, () =>
    action === 'retry'
      ? `export ${row.id} (${row.stream}) is submitted again: the next sync downloads it through the status endpoint, with no new export request`
      : `export ${row.id} (${row.stream}) abandoned (it stays counted in the quota); the next sync plans its window [${updated.window_start.toISOString()}, ${updated.window_end.toISOString()}) again`,
  );
  return ExitCode.done;
}
