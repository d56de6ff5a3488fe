import type { ArgumentsCamelCase, Argv } from 'yargs';
import { readIsoInstant } from '../config/iso-instant.js';
import { ConfigError, UsageError } from '../errors.js';
import type { Logger, LogLevel } from '../log/logger.js';

/** The options every command takes (`commonOptions`), as the handlers receive them. */
export interface CommonArgs {
  config?: string;
  json: boolean;
  logLevel?: LogLevel;
  account?: string[];
}

/**
 * One command of the CLI, defined in its own file: the yargs command string and description,
 * the options it adds to the common ones, and what it runs. `main.ts` only registers them.
 */
export interface CommandSpec<T> {
  /** The yargs command string: the name, then any positionals (`load-file <file>`). */
  command: string;
  describe: string;
  builder: (y: Argv<CommonArgs>) => Argv<T>;
  /**
   * Set on a command that works on no account of the config: what it works on instead. Such a
   * command hides `--account` from its help and refuses it, since accepted and ignored it would
   * let the user believe the output is that account's.
   */
  noAccount?: string;
  /** Runs the command; resolves to the process's exit code. */
  run: (args: ArgumentsCamelCase<T>, log: Logger) => Promise<number>;
}

/** A command with its argument type erased, as `main.ts` holds them in one list. */
export interface CliCommand {
  readonly command: string;
  readonly describe: string;
  readonly noAccount?: string;
  builder(y: Argv<CommonArgs>): Argv<CommonArgs>;
  run(args: ArgumentsCamelCase<CommonArgs>, log: Logger): Promise<number>;
}

/** Types a command's builder and handler together, then erases the type for the list. */
export function defineCommand<T>(spec: CommandSpec<T>): CliCommand {
  // The one cast: yargs gives `run` exactly the arguments `builder` declared.
  return spec as unknown as CliCommand;
}

/** The options of every command. */
export function commonOptions<T>(y: Argv<T>) {
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

/** `--stream`, `--start` and `--end`: the streams and explicit window of `sync` and `plan`. */
export function windowOptions<T>(y: Argv<T>) {
  return y
    .option('stream', { type: 'string', array: true, describe: 'only this stream (repeatable)' })
    .option('start', {
      type: 'string',
      describe: 'explicit window start (ISO 8601, UTC unless an offset is given)',
    })
    .option('end', { type: 'string', describe: 'explicit window end, exclusive' });
}

/** Refuses `--account` on a command that works on no account (`CommandSpec.noAccount`). */
export function refuseAccount(a: { account?: string[] | undefined }, command: string, why: string): void {
  if (a.account !== undefined) throw new UsageError(`${command} takes no --account: ${why}`);
}

/**
 * A date flag (`--start`, `--end`, `--to`): ISO 8601, UTC unless it has an offset, a date alone
 * its midnight UTC (readIsoInstant); a date the calendar does not have is refused, not rolled over.
 */
export function parseInstant(name: string, value: string): Date {
  const read = readIsoInstant(value);
  if ('problem' in read)
    throw new ConfigError(
      `--${name} ${JSON.stringify(value)} is not a date: ${read.problem} (use ISO 8601, e.g. 2026-11-01T00:00:00Z)`,
    );
  return read.date;
}

/**
 * `--start` and `--end`, which go together (`sync`, `plan`, `load-file`): the explicit window, or
 * undefined when neither is given. One without the other is a usage error (exit 2).
 */
export function parseWindowArgs(args: {
  start?: string | undefined;
  end?: string | undefined;
}): { start: Date; end: Date } | undefined {
  if ((args.start === undefined) !== (args.end === undefined))
    throw new ConfigError('--start and --end go together');
  return args.start !== undefined && args.end !== undefined
    ? { start: parseInstant('start', args.start), end: parseInstant('end', args.end) }
    : undefined;
}
