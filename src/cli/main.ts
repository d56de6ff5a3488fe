#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ExitCode, errorReport, exitCodeOf, isSyncError, UsageError } from '../errors.js';
import { createLogger } from '../log/logger.js';
import { redact } from '../log/redact.js';
import { type CommonArgs, commonOptions, refuseAccount } from './cli-command.js';
import { commands } from './commands.js';

async function run(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.done;
  const logFor = (a: CommonArgs) =>
    createLogger({
      ...(a.logLevel ? { level: a.logLevel } : {}),
      ...(a.json ? { format: 'json' as const } : {}),
    });
  let parser = commonOptions(yargs(argv))
    .scriptName('cxone-od-sync')
    .usage(
      '$0 <command> [options]\n\nNICE CXone Observability Dashboard exports into PostgreSQL or BigQuery.',
    );
  for (const c of commands) {
    const name = c.command.split(' ')[0]!;
    parser = parser.command(
      c.command,
      c.describe,
      (y) => c.builder(c.noAccount ? y.hide('account') : y),
      async (a) => {
        if (c.noAccount) refuseAccount(a, name, c.noAccount);
        exitCode = await c.run(a, logFor(a));
      },
    );
  }
  await parser
    .demandCommand(1, 'name a command')
    .strict()
    .recommendCommands()
    .help()
    .version()
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(msg);
    })
    .parseAsync();
  return exitCode;
}

run(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const json = process.argv.includes('--json');
    const code = exitCodeOf(err);
    const message = redact(err instanceof Error ? err.message : String(err));
    if (json) {
      process.stdout.write(
        `${JSON.stringify({ outcome: 'error', exitCode: code, error: errorReport(err, message) })}\n`,
      );
    }
    // One JSON object per line on a non-terminal, like every other log line.
    createLogger(json ? { format: 'json' } : {}).error(`cxone-od-sync: ${message}`, {
      exitCode: code,
      ...(code === ExitCode.failed && !isSyncError(err) && process.env.CXONE_OD_SYNC_DEBUG
        ? { stack: (err as Error).stack }
        : {}),
    });
    process.exitCode = code;
  },
);
