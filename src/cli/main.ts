#!/usr/bin/env node
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ExitCode, errorReport, exitCodeOf, isSyncError, UsageError } from '../errors.js';
import { createLogger, type LogLevel } from '../log/logger.js';
import { redact } from '../log/redact.js';
import { dbtSourcesCommand } from './dbt-sources-command.js';
import { exportsCommand } from './exports-command.js';
import { inferSchemaCommand } from './infer-schema-command.js';
import { checkCommand, migrateCommand, statusCommand, streamsCommand } from './info-commands.js';
import { loadFileCommand } from './load-file-command.js';
import { planCommand } from './plan-command.js';
import { replayCommand } from './replay-command.js';
import { resetCommand } from './reset-command.js';
import { syncCommand } from './sync-command.js';
import { unblockCommand } from './unblock-command.js';

interface Common {
  config?: string;
  json: boolean;
  logLevel?: LogLevel;
}

function common<T>(y: Argv<T>) {
  return y
    .option('config', {
      type: 'string',
      describe: 'YAML config file (default cxone-od-sync.yaml when present)',
    })
    .option('json', {
      type: 'boolean',
      default: false,
      describe: 'one JSON document on stdout; logs on stderr',
    })
    .option('log-level', { choices: ['debug', 'info', 'warn', 'error'] as const, describe: 'log verbosity' })
    .option('account', {
      type: 'string',
      array: true,
      describe: 'only this account of the config (repeatable; default: every account)',
    });
}

/**
 * Refuses the global `--account` on a command that works on no account of the config (`why`
 * says what it works on instead): accepted and ignored, it would let the user believe the
 * output is that account's. Such a command also hides the option from its `--help`.
 */
function refuseAccount(a: { account?: string[] | undefined }, command: string, why: string): void {
  if (a.account !== undefined) throw new UsageError(`${command} takes no --account: ${why}`);
}

function windowOptions<T>(y: Argv<T>) {
  return y
    .option('stream', { type: 'string', array: true, describe: 'only this stream (repeatable)' })
    .option('start', {
      type: 'string',
      describe: 'explicit window start (ISO 8601, UTC unless an offset is given)',
    })
    .option('end', { type: 'string', describe: 'explicit window end, exclusive' });
}

async function run(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.done;
  const logFor = (a: Common) =>
    createLogger({
      ...(a.logLevel ? { level: a.logLevel } : {}),
      ...(a.json ? { format: 'json' as const } : {}),
    });
  const parser = common(yargs(argv))
    .scriptName('cxone-od-sync')
    .usage(
      '$0 <command> [options]\n\nNICE CXone Observability Dashboard exports into PostgreSQL or BigQuery.',
    )
    .command(
      'check',
      'validate config, get a token, reach the state store and destination; spends no quota',
      (y) => y,
      async (a) => {
        exitCode = await checkCommand(a, logFor(a));
      },
    )
    .command(
      'streams',
      'list streams, their columns and types (--json gives JSON Schema)',
      (y) => y.hide('account'),
      async (a) => {
        refuseAccount(
          a,
          'streams',
          'it lists the stream schemas built into the connector, the same for every account',
        );
        exitCode = await streamsCommand(a);
      },
    )
    .command(
      'plan',
      "what a sync would request now, each stream's next due time; --horizon 7d forecasts the exports to come; changes nothing",
      (y) =>
        windowOptions(y).option('horizon', {
          type: 'string',
          describe:
            "forecast each stream's export requests and lag over this duration (7d, 36h), at the cadence syncs have been run",
        }),
      async (a) => {
        exitCode = await planCommand(a, logFor(a));
      },
    )
    .command(
      'sync',
      'resume unfinished exports, then request what is due within quota',
      (y) =>
        windowOptions(y)
          .option('max-exports', { type: 'number', describe: 'at most N new export requests' })
          .option('wait', {
            type: 'boolean',
            default: true,
            describe:
              'wait for a quota slot about to free: up to 10 minutes, or an eighth of the time between runs when longer, at most an hour (--no-wait: exit 75 at once)',
          }),
      async (a) => {
        exitCode = await syncCommand(a, logFor(a));
      },
    )
    .command(
      'status',
      'watermarks, lag, gaps, exports in flight, quota',
      (y) => y,
      async (a) => {
        exitCode = await statusCommand(a, logFor(a));
      },
    )
    .command(
      'migrate',
      'apply state-store migrations and create destination tables',
      (y) => y,
      async (a) => {
        exitCode = await migrateCommand(a, logFor(a));
      },
    )
    .command(
      'dbt-sources',
      "print (or write with --out DIR) a dbt sources.yml for the destination's tables, with freshness thresholds",
      (y) =>
        y
          .hide('account')
          .option('out', { type: 'string', describe: 'write DIR/sources.yml instead of printing it' })
          .option('sync-every', {
            type: 'string',
            describe: 'how often sync runs (1h, 8h, 1d; default 1h): the freshness thresholds follow from it',
          }),
      async (a) => {
        refuseAccount(
          a,
          'dbt-sources',
          "it describes the destination's tables, which hold the rows of every account of the config (_account tells them apart), with freshness thresholds that hold for all of them",
        );
        exitCode = await dbtSourcesCommand(a);
      },
    )
    .command(
      'simulate',
      'serve the export API simulator',
      (y) =>
        y
          .hide('account')
          .option('port', { type: 'number', default: 8080 })
          .option('download-port', {
            type: 'number',
            describe: 'port of the download origin (default: any free port)',
          })
          .option('host', { type: 'string', default: '127.0.0.1' })
          .option('public-host', {
            type: 'string',
            describe: 'host name to put in download URLs (e.g. the compose service name)',
          })
          .option('quota', { type: 'number', describe: 'the simulated account quota per 24h (default 3)' })
          .option('processing-ms', { type: 'number', describe: 'how long an export stays Pending' })
          .option('slot-minutes', {
            type: 'number',
            describe: 'one generated row per stream every N minutes (default 20)',
          })
          .option('accounts', {
            type: 'number',
            describe:
              'serve N accounts, each with its own credentials, quota and data, on consecutive ports from --port',
          }),
      async (a) => {
        refuseAccount(
          a,
          'simulate',
          'it serves a simulated API, not an account of the config (--accounts N serves N simulated accounts)',
        );
        const { simulateCommand } = await import('./simulate-command.js');
        exitCode = await simulateCommand(a, logFor(a));
      },
    )
    .command(
      'load-file <file>',
      'load a CSV downloaded by hand from the dashboard; spends no quota',
      (y) =>
        y
          .positional('file', { type: 'string', demandOption: true })
          .option('stream', {
            type: 'string',
            demandOption: true,
            describe: 'the stream the file belongs to',
          })
          .option('start', {
            type: 'string',
            describe: "the file's window start (default: its earliest event time)",
          })
          .option('end', {
            type: 'string',
            describe: "the file's window end, exclusive (default: just after its latest event time)",
          })
          .option('time-zone', {
            type: 'string',
            describe: "the time zone of wall-clock times in the file (default: the stream's)",
          }),
      async (a) => {
        exitCode = await loadFileCommand(a as typeof a & { file: string }, logFor(a));
      },
    )
    .command(
      'infer-schema <file>',
      'read a real export and print a schema proposal (headers, types)',
      (y) =>
        y
          .hide('account')
          .positional('file', { type: 'string', demandOption: true })
          .option('stream', { type: 'string', describe: 'compare with this stream schema' })
          .option('rows', { type: 'number', default: 10_000, describe: 'rows to sample' }),
      async (a) => {
        refuseAccount(a, 'infer-schema', 'it reads the file it is given and no config');
        exitCode = await inferSchemaCommand(a as typeof a & { file: string });
      },
    )
    .command(
      'reset',
      'move a stream watermark back (--to DATE) or clear it; asks unless --yes',
      (y) =>
        y
          .option('stream', {
            type: 'string',
            array: true,
            demandOption: true,
            describe: 'the stream (repeatable)',
          })
          .option('to', { type: 'string', describe: 'the new watermark (default: cleared)' })
          .option('yes', { type: 'boolean', default: false, describe: 'do not ask' }),
      async (a) => {
        exitCode = await resetCommand(a, logFor(a));
      },
    )
    .command(
      'replay',
      'load an export again from its archived file; spends no quota',
      (y) =>
        y.option('export', {
          type: 'string',
          demandOption: true,
          describe: 'ledger id (or the vendor export id)',
        }),
      async (a) => {
        exitCode = await replayCommand(a, logFor(a));
      },
    )
    .command(
      'exports [action] [id]',
      'list ledger rows; `exports retry ID` downloads one again via the status, `exports abandon ID --reason TEXT` gives it up',
      (y) =>
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
      async (a) => {
        exitCode = await exportsCommand(a, logFor(a));
      },
    )
    .command(
      'unblock',
      'end the backoff of a stream the API refused (--stream S) or the wait after a quota refusal (--quota); requests nothing',
      (y) =>
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
      async (a) => {
        exitCode = await unblockCommand(a, logFor(a));
      },
    )
    .command(
      'demo',
      'a whole sync against the simulator into an embedded PostgreSQL: no server, no credentials',
      (y) =>
        y
          .hide('account')
          .option('days', { type: 'number', default: 7, describe: 'days of history to sync' })
          .option('keep', { type: 'string', describe: 'keep the embedded database in this directory' })
          .option('serve', {
            type: 'boolean',
            default: false,
            describe: 'keep serving the database for psql after the sync',
          })
          .option('port', {
            type: 'number',
            default: 0,
            describe: 'port for --serve (default: any free port)',
          }),
      async (a) => {
        refuseAccount(
          a,
          'demo',
          'it syncs a simulated account of its own into an embedded database, and reads no config',
        );
        // Loaded on demand: PGlite and the simulator are not needed by the other commands.
        const { demoCommand } = await import('./demo-command.js');
        exitCode = await demoCommand(a, logFor(a));
      },
    )
    .demandCommand(1, 'name a command')
    .strict()
    .recommendCommands()
    .help()
    .version()
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(msg);
    });
  await parser.parseAsync();
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
