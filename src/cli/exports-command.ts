import { rm } from 'node:fs/promises';
import { type Context, type Deployment, withDeployment } from '../deployment/deployment.js';
import { ConfigError, ExitCode, ExportBusyError } from '../errors.js';
import { inBackoff } from '../ledger/export-backoff.js';
import { abandon, retry } from '../ledger/export-transitions.js';
import type { Logger } from '../log/logger.js';
import { claimHost } from '../ports/claim-owner.js';
import type { ExportPatch, ExportRecord } from '../ports/export-record.js';
import { defineCommand } from './cli-command.js';
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

/** One export as `exports` shows it (`exportId`: `vendorExportId` under its earlier name). */
function rowView(r: ExportRecord, now: Date) {
  return {
    ledgerId: r.ledgerId,
    stream: r.stream,
    windowStart: r.windowStart.toISOString(),
    windowEnd: r.windowEnd.toISOString(),
    status: r.status,
    vendorExportId: r.vendorExportId,
    exportKey: r.exportKey,
    exportId: r.vendorExportId,
    attempts: r.attempts,
    failures: r.failures,
    error: r.error,
    nextAttemptAt: r.nextAttemptAt?.toISOString() ?? null,
    inBackoff: inBackoff(r, now),
    claimedBy: claimHost(r),
    updatedAt: r.updatedAt.toISOString(),
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
    // Checked before the claim: an export these do not apply to is a usage error, changing nothing.
    const patch = action === 'retry' ? retry(row) : abandon(row, args.reason!.trim());
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

async function act(
  ctx: Context,
  args: ExportsArgs,
  action: string,
  row: ExportRecord,
  patch: ExportPatch,
): Promise<number> {
  const { state, clock } = ctx;
  const claimed = await state.exports.claim(row.ledgerId, ctx.owner, clock.now());
  if (!claimed)
    throw new ExportBusyError(
      `export ${row.ledgerId} is being worked on by another process (${claimHost(row) ?? 'unknown host'}); run exports ${action} again when it is done`,
    );
  const runId = await state.runs.start(`exports ${action}`, ctx.config.accountKey, clock.now());
  let updated: ExportRecord | 'window-taken';
  try {
    updated = await state.exports.writeUnlessWindowTaken(row.ledgerId, patch, clock.now());
  } catch (err) {
    await state.runs.finish(runId, 'error', ExitCode.usage, { ledgerId: row.ledgerId, action }, clock.now());
    throw err;
  } finally {
    await state.exports.release(row.ledgerId, ctx.owner);
  }
  if (updated === 'window-taken') {
    await state.runs.finish(runId, 'error', ExitCode.usage, { ledgerId: row.ledgerId, action }, clock.now());
    throw new ConfigError(
      `export ${row.ledgerId}: another unfinished export of the same window is in the ledger (see \`exports --stream ${row.stream}\`)`,
    );
  }
  if (action === 'retry' && claimed.archivePath) await rm(claimed.archivePath, { force: true });
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
      ? `export ${row.ledgerId} (${row.stream}) is submitted again: the next sync downloads it through the status endpoint, with no new export request`
      : `export ${row.ledgerId} (${row.stream}) abandoned (it stays counted in the quota); the next sync plans its window [${updated.windowStart.toISOString()}, ${updated.windowEnd.toISOString()}) again`,
  );
  return ExitCode.done;
}

export const exportsCli = defineCommand({
  command: 'exports [action] [id]',
  describe:
    'list ledger rows; `exports retry ID` downloads one again via the status, `exports abandon ID --reason TEXT` gives it up',
  builder: (y) =>
    y
      .positional('action', { choices: ['list', 'retry', 'abandon'] as const, default: 'list' as const })
      .positional('id', { type: 'string', describe: 'ledger id (or the vendor export id)' })
      .option('stream', { type: 'string', array: true, describe: 'only this stream (repeatable)' })
      .option('status', {
        type: 'string',
        array: true,
        choices: ['reserved', 'submitted', 'ready', 'downloaded', 'loaded', 'failed'],
        describe: 'only this ledger status (repeatable)',
      })
      .option('reason', { type: 'string', describe: 'why an export is abandoned (recorded)' })
      .option('limit', { type: 'number', default: 50, describe: 'at most N rows, newest first' }),
  run: (a, log) => exportsCommand(a, log),
});
