import { createInterface } from 'node:readline/promises';
import { loadConfig } from '../config/load-config.js';
import { ConfigError, StreamBusyError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { createContext } from './context.js';
import { emit } from './output.js';
import { parseInstant } from './sync-command.js';

/**
 * Moves a stream's watermark back (`--to DATE`) or clears it, so that the next sync exports that
 * span again. Asks for confirmation on a terminal unless `--yes`; refuses without `--yes` elsewhere.
 * Refuses (exit 75) while another process holds a claim on an export of the stream: that sync's
 * commit would move the watermark again and undo the reset.
 */
export async function resetCommand(
  args: { config?: string; json: boolean; stream: string[]; to?: string; yes: boolean },
  log: Logger,
): Promise<number> {
  const config = loadConfig(args.config);
  const unknown = args.stream.filter((s) => !config.streams.some((c) => c.schema.name === s));
  if (unknown.length) throw new ConfigError(`--stream ${unknown.join(', ')}: not an enabled stream`);
  const to = args.to ? parseInstant('to', args.to) : null;
  const ctx = createContext(config, log);
  try {
    await ctx.state.migrate();
    const refuseWhileClaimed = async () => {
      const held = await ctx.state.exports.heldClaims(config.accountKey, args.stream, ctx.clock.now());
      if (held.length === 0) return;
      const who = held
        .map(
          (r) =>
            `${r.stream} export ${r.id} (${r.status}) claimed by ${r.claimed_by} until ${r.claim_expires_at?.toISOString()}`,
        )
        .join('; ');
      throw new StreamBusyError(
        `reset refused: another process is working on the stream (${who}); its commit would undo the reset. Run reset again once that sync has finished (or its claim has expired)`,
      );
    };
    await refuseWhileClaimed();
    const before = await ctx.state.watermarks.byStream(config.accountKey);
    const changes = args.stream.map((s) => ({
      stream: s,
      from: before.get(s)?.toISOString() ?? null,
      to: to?.toISOString() ?? null,
    }));
    if (!args.yes) {
      if (!process.stdin.isTTY)
        throw new ConfigError('reset changes watermarks: pass --yes to confirm when not on a terminal');
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question(
        `${changes.map((c) => `${c.stream}: ${c.from ?? 'never synced'} -> ${c.to ?? 'cleared'}`).join('\n')}\nProceed? [y/N] `,
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
    await refuseWhileClaimed();
    for (const c of changes) await ctx.state.watermarks.set(config.accountKey, c.stream, to, ctx.clock.now());
    emit({ command: 'reset', outcome: 'done', changes }, args.json, () =>
      changes
        .map(
          (c) =>
            `${c.stream}: watermark ${c.from ?? 'none'} -> ${c.to ?? 'cleared (the next sync starts at the stream start or the horizon)'}`,
        )
        .join('\n'),
    );
    return 0;
  } finally {
    await ctx.close();
  }
}
