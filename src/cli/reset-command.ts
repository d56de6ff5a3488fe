import { createInterface } from 'node:readline/promises';
import { accountsForStreams, openDeployment } from '../deployment/deployment.js';
import { ConfigError, StreamBusyError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { ExportRecord } from '../ports/export-record.js';
import { defineCommand, parseInstant } from './cli-command.js';
import { emit } from './output.js';

/**
 * Moves a stream's watermark back (`--to DATE`) or clears it, so that the next sync exports that
 * span again. Asks for confirmation on a terminal unless `--yes`; refuses without `--yes` elsewhere.
 * Refuses (exit 75) while another process holds a claim on an export of the stream: that sync's
 * commit would move the watermark again and undo the reset. A sync that planned from the old
 * watermark and reserves after the reset requests nothing for the stream (`Reservation` `moved`).
 */
export async function resetCommand(
  args: { config?: string; json: boolean; stream: string[]; to?: string; yes: boolean; account?: string[] },
  log: Logger,
): Promise<number> {
  const d = openDeployment(args.config, log, args.account);
  try {
    const many = d.config.raw.accounts !== undefined;
    // Each selected account's streams of those named that it has enabled.
    const targets = accountsForStreams(d, args.stream).map(({ ctx, streams }) => ({
      account: ctx.config.accountKey,
      streams: streams ?? [],
    }));
    const to = args.to ? parseInstant('to', args.to) : null;
    await d.state.migrate();
    const refusal = (account: string, held: readonly ExportRecord[]) =>
      new StreamBusyError(
        `reset refused: another process is working on the stream (${held
          .map(
            (r) =>
              `${many ? `${account} ` : ''}${r.stream} export ${r.ledgerId} (${r.status}) claimed by ${r.claimedBy} until ${r.claimExpiresAt?.toISOString()}`,
          )
          .join(
            '; ',
          )}); its commit would undo the reset. Run reset again once that sync has finished (or its claim has expired)`,
      );
    // Before asking: a reset that would be refused is not offered.
    for (const t of targets) {
      const held = await d.state.exports.heldClaims(t.account, t.streams, d.clock.now());
      if (held.length) throw refusal(t.account, held);
    }
    const changes: { account?: string; stream: string; from: string | null; to: string | null }[] = [];
    for (const t of targets) {
      const before = await d.state.watermarks.byStream(t.account);
      for (const s of t.streams)
        changes.push({
          ...(many ? { account: t.account } : {}),
          stream: s,
          from: before.get(s)?.toISOString() ?? null,
          to: to?.toISOString() ?? null,
        });
    }
    const label = (c: (typeof changes)[number]) => `${c.account ? `${c.account} ` : ''}${c.stream}`;
    if (!args.yes) {
      if (!process.stdin.isTTY)
        throw new ConfigError('reset changes watermarks: pass --yes to confirm when not on a terminal');
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question(
        `${changes.map((c) => `${label(c)}: ${c.from ?? 'never synced'} -> ${c.to ?? 'cleared'}`).join('\n')}\nProceed? [y/N] `,
      );
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) {
        emit(
          { command: 'reset', outcome: 'cancelled', changes: [] },
          args.json,
          () => 'cancelled; nothing changed',
        );
        return 0;
      }
    }
    // Each account's streams at once, under the lock a sync reserves its exports with.
    for (const t of targets) {
      const held = await d.state.watermarks.resetUnlessClaimed(t.account, t.streams, to, d.clock.now());
      if (held.length) throw refusal(t.account, held);
    }
    emit({ command: 'reset', outcome: 'done', changes }, args.json, () =>
      changes
        .map(
          (c) =>
            `${label(c)}: watermark ${c.from ?? 'none'} -> ${c.to ?? 'cleared (the next sync starts at the stream start or the horizon)'}`,
        )
        .join('\n'),
    );
    return 0;
  } finally {
    await d.close();
  }
}

export const resetCli = defineCommand({
  command: 'reset',
  describe: 'move a stream watermark back (--to DATE) or clear it; asks unless --yes',
  builder: (y) =>
    y
      .option('stream', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'the stream (repeatable)',
      })
      .option('to', { type: 'string', describe: 'the new watermark (default: cleared)' })
      .option('yes', { type: 'boolean', default: false, describe: 'do not ask' }),
  run: (a, log) => resetCommand(a, log),
});
