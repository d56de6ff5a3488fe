import type { CliCommand } from './cli-command.js';
import { dbtSourcesCli } from './dbt-sources-command.js';
import { demoCli } from './demo-command.js';
import { exportsCli } from './exports-command.js';
import { inferSchemaCli } from './infer-schema-command.js';
import { checkCli, migrateCli, statusCli, streamsCli } from './info-commands.js';
import { loadFileCli } from './load-file-command.js';
import { planCli } from './plan-command.js';
import { pruneCli } from './prune-command.js';
import { replayCli } from './replay-command.js';
import { resetCli } from './reset-command.js';
import { simulateCli } from './simulate-command.js';
import { syncCli } from './sync-command.js';
import { unblockCli } from './unblock-command.js';

/** Every command of the CLI, in the order `--help` lists them. Each is defined in its own file. */
export const commands: readonly CliCommand[] = [
  checkCli,
  streamsCli,
  planCli,
  syncCli,
  statusCli,
  migrateCli,
  dbtSourcesCli,
  simulateCli,
  loadFileCli,
  inferSchemaCli,
  resetCli,
  replayCli,
  pruneCli,
  exportsCli,
  unblockCli,
  demoCli,
];
