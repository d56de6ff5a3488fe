import { withDeployment } from '../deployment/deployment.js';
import { ConfigError, ExitCode, ExportBusyError } from '../errors.js';
import { reloadArchived } from '../export/export-lifecycle.js';
import type { Logger } from '../log/logger.js';
import { claimHost } from '../ports/claim-owner.js';
import { defineCommand } from './cli-command.js';
import { emit } from './output.js';

/**
 * Loads an export again from its archived raw file (after a schema fix, say). Calls no API and
 * spends no quota; the window is replaced, so the table ends as if the export had loaded once.
 */
export async function replayCommand(
  args: { config?: string; json: boolean; export: string; account?: string[] },
  log: Logger,
): Promise<number> {
  return withDeployment(args.config, log, args.account, async (d) => {
    const row = /^\d+$/.test(args.export)
      ? await d.state.exports.get(args.export)
      : await d.state.exports.findByVendorId(args.export);
    const ctx = d.accounts.find((c) => c.config.accountKey === row?.account);
    if (!row || !ctx) {
      throw new ConfigError(
        `--export ${args.export}: no such export in the ledger of account ${d.accounts.map((c) => c.config.accountKey).join(', ')} (see status, or the sync summary's ledgerId)`,
      );
    }
    const config = ctx.config;
    // A file that is gone or altered is refused by the load itself, which says what to run.
    if (!row.archivePath) {
      throw new ConfigError(
        `export ${row.ledgerId} has no archived file (status ${row.status}); it cannot be replayed${row.vendorExportId ? ` (\`exports retry ${row.ledgerId}\` then \`sync\` downloads it again)` : ''}`,
      );
    }
    const stream = config.streams.find((s) => s.schema.name === row.stream);
    if (!stream)
      throw new ConfigError(
        `export ${row.ledgerId} is of stream ${row.stream}, which is not enabled in the config`,
      );
    const claimed = await ctx.state.exports.claim(row.ledgerId, ctx.owner, ctx.clock.now());
    if (!claimed)
      throw new ExportBusyError(
        `export ${row.ledgerId} is being worked on by another process (${claimHost(row) ?? 'unknown host'}); run replay again when it is done`,
      );
    const loaded = await reloadArchived(claimed, stream, ctx);
    const base = { command: 'replay', ledgerId: row.ledgerId, stream: row.stream };
    const result = loaded.ok
      ? { ...base, outcome: 'done', exitCode: ExitCode.done, rows: loaded.rows, rejected: loaded.rejected }
      : { ...base, outcome: 'failed', exitCode: ExitCode.failed, error: loaded.error };
    emit(result, args.json, () =>
      loaded.ok
        ? `replayed export ${row.ledgerId} (${row.stream}): ${loaded.rows} rows loaded, ${loaded.rejected} rejected`
        : `replay of export ${row.ledgerId} failed: ${loaded.error}`,
    );
    return result.exitCode;
  });
}

export const replayCli = defineCommand({
  command: 'replay',
  describe: 'load an export again from its archived file; spends no quota',
  builder: (y) =>
    y.option('export', {
      type: 'string',
      demandOption: true,
      describe: 'ledger id (or the vendor export id)',
    }),
  run: (a, log) => replayCommand(a, log),
});
