import { redact } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** JSON lines (for machines) or human lines (for a terminal). */
  format?: 'json' | 'human';
  write?: (line: string) => void;
}

/**
 * Logs go to stderr: structured JSON lines when stderr is not a terminal or `--json` is given,
 * human lines on a terminal. Every line passes through `redact`.
 */
export function createLogger(options: LoggerOptions = {}, base: Record<string, unknown> = {}): Logger {
  const level = options.level ?? ((process.env.CXONE_OD_SYNC_LOG_LEVEL as LogLevel | undefined) || 'info');
  const format = options.format ?? (process.stderr.isTTY ? 'human' : 'json');
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (order[lvl] < order[level]) return;
    const all = { ...base, ...fields };
    if (format === 'json') {
      write(
        redact(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...all }, errorReplacer)),
      );
    } else {
      const extras = Object.entries(all)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v, errorReplacer)}`)
        .join(' ');
      write(redact(`${lvl.padEnd(5)} ${msg}${extras ? `  ${extras}` : ''}`));
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ level, format, write }, { ...base, ...fields }),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (value instanceof Date) return value.toISOString();
  return value;
}

/** A logger that drops everything (library use, tests that do not look at logs). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};

/** The process's memory, in MiB, for progress logs: resident set, JS heap in use, buffers. */
export function memoryFields(): { rssMb: number; heapMb: number; buffersMb: number } {
  const m = process.memoryUsage();
  const mb = (n: number) => Math.round(n / 2 ** 20);
  return { rssMb: mb(m.rss), heapMb: mb(m.heapUsed), buffersMb: mb(m.external + m.arrayBuffers) };
}
