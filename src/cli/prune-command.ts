import { withDeployment } from '../deployment/deployment.js';
import { ExitCode } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { pruneAll } from '../run/state-prune.js';
import { defineCommand } from './cli-command.js';
import { emitPerAccount } from './output.js';

export interface PruneArgs {
  config?: string;
  json: boolean;
  /** `--account`: only these accounts (default: all). */
  account?: string[];
}

const dayMs = 86_400_000;

/**
 * `prune`: applies every retention now, for each selected account, as the end of a sync does:
 * archived raw files (`archive.keepDays`), the run log (`state.runsKeepDays`, the latest runs of
 * each command always kept) and rejected rows (`state.rejectedRowsKeepDays`). The export ledger
 * and the destination tables are never pruned. Spends no quota; recorded in the run log.
 */
export async function pruneCommand(args: PruneArgs, log: Logger): Promise<number> {
  return withDeployment(args.config, log, args.account, async (d) => {
    const shown: { result: unknown; text: string }[] = [];
    for (const ctx of d.accounts) {
      const { state, clock, config } = ctx;
      const account = config.accountKey;
      const runId = await state.runs.start('prune', account, clock.now());
      const now = clock.now();
      const pruned = await pruneAll(state, config, now);
      const before = (days: number) => new Date(now.getTime() - days * dayMs).toISOString();
      const result = {
        command: 'prune',
        outcome: 'done',
        exitCode: ExitCode.done,
        account,
        pruned,
        before: {
          archiveFiles: before(config.archive.keepDays),
          runs: before(config.retention.runsKeepDays),
          rejectedRows: before(config.retention.rejectedRowsKeepDays),
        },
      };
      await state.runs.finish(runId, 'done', ExitCode.done, result, clock.now());
      log.info('pruned', { account, ...pruned });
      shown.push({
        result,
        text: `account ${account}: ${pruned.archiveFiles} archived file(s) loaded before ${result.before.archiveFiles} (archive.keepDays ${config.archive.keepDays}), ${pruned.runs} run(s) started before ${result.before.runs} (state.runsKeepDays ${config.retention.runsKeepDays}), ${pruned.rejectedRows} rejected row(s) recorded before ${result.before.rejectedRows} (state.rejectedRowsKeepDays ${config.retention.rejectedRowsKeepDays}) pruned; the export ledger is kept`,
      });
    }
    emitPerAccount('prune', shown, args.json, d.config.raw.accounts !== undefined);
    return ExitCode.done;
  });
}

export const pruneCli = defineCommand({
  command: 'prune',
  describe:
    'apply the retentions now: archived files (archive.keepDays), the run log (state.runsKeepDays), rejected rows (state.rejectedRowsKeepDays); sync does it too',
  builder: (y) => y,
  run: (a, log) => pruneCommand(a, log),
});
