import { streamSchemas } from '../../schemas/index.js';
import { withDeployment } from '../deployment/deployment.js';
import { ConfigError, ExitCode } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { defineCommand } from './cli-command.js';
import { emitPerAccount } from './output.js';

export interface UnblockArgs {
  config?: string;
  json: boolean;
  /** The streams whose backoff ends. */
  stream?: string[];
  /** End the quota block and forget the use of the quota by others that a refusal taught. */
  quota?: boolean;
  /** `--account`: only these accounts (default: all). */
  account?: string[];
}

/**
 * The way out of the scheduler's own waits (issue 25): `unblock --stream S` ends the backoff of
 * a stream the API refused or whose exports failed at the vendor, so that the next sync asks
 * for it again (after a fix at the vendor, say); `unblock --quota` ends the wait after a quota
 * refusal and forgets the slots others were seen to use, so that the next sync uses the whole
 * `exportsPer24h` less `reserveForOthers` again. Neither requests anything; each is recorded in
 * the run log.
 */
export async function unblockCommand(args: UnblockArgs, log: Logger): Promise<number> {
  if (!args.stream?.length && !args.quota)
    throw new ConfigError(
      'unblock needs --stream S (repeatable: end the backoff of these streams) or --quota (end the wait after a quota refusal and forget the slots others were seen to use), or both',
    );
  const known = streamSchemas.map((s) => s.name);
  const unknown = (args.stream ?? []).filter((s) => !known.includes(s));
  if (unknown.length)
    throw new ConfigError(`--stream ${unknown.join(', ')}: no such stream; streams: ${known.join(', ')}`);
  const streams = args.stream ?? [];
  return withDeployment(args.config, log, args.account, async (d) => {
    const shown: { result: unknown; text: string }[] = [];
    // Every selected account, a stream its config has disabled since included.
    for (const ctx of d.accounts) {
      const { state, clock } = ctx;
      const account = ctx.config.accountKey;
      const runId = await state.runs.start('unblock', account, clock.now());
      const ended = streams.length ? await state.backoffs.clear(account, streams) : [];
      const forgot = args.quota ? await state.quota.forget(account) : false;
      const result = {
        command: 'unblock',
        outcome: 'done',
        exitCode: ExitCode.done,
        account,
        streams: ended,
        ...(args.quota ? { quota: forgot ? 'forgotten' : 'nothing to forget' } : {}),
      };
      await state.runs.finish(runId, 'done', ExitCode.done, result, clock.now());
      const lines = [
        ...streams.map((s) =>
          ended.includes(s)
            ? `${s}: backoff ended; the next sync asks for it again`
            : `${s}: was not backed off`,
        ),
        ...(args.quota
          ? [
              forgot
                ? 'quota: the wait after the refusal ended and the slots others were seen to use are forgotten; the next sync uses the whole quota (less reserveForOthers)'
                : 'quota: no refusal recorded; nothing to forget',
            ]
          : []),
      ];
      shown.push({ result, text: `account ${account}:\n${lines.join('\n')}` });
    }
    emitPerAccount('unblock', shown, args.json, d.config.raw.accounts !== undefined);
    return ExitCode.done;
  });
}

export const unblockCli = defineCommand({
  command: 'unblock',
  describe:
    'end the backoff of a stream the API refused (--stream S) or the wait after a quota refusal (--quota); requests nothing',
  builder: (y) =>
    y
      .option('stream', {
        type: 'string',
        array: true,
        describe: 'end the backoff of this stream (repeatable)',
      })
      .option('quota', {
        type: 'boolean',
        default: false,
        describe: 'end the wait after a quota refusal and forget the slots others were seen to use',
      }),
  run: (a, log) => unblockCommand(a, log),
});
