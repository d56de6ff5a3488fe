import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { onlyAccount, openDeployment } from '../deployment/deployment.js';
import { ConfigError, ExitCode } from '../errors.js';
import { archivePath, reloadArchived } from '../export/export-lifecycle.js';
import { localFileCopied, recordLocalFile } from '../ledger/export-transitions.js';
import type { Logger } from '../log/logger.js';
import { readCsvRecords } from '../parse/csv-records.js';
import { mapHeaders } from '../parse/header-mapping.js';
import { createRowTyper } from '../parse/row-typer.js';
import { defineCommand, parseWindowArgs } from './cli-command.js';
import { emit } from './output.js';

export interface LoadFileArgs {
  config?: string;
  json: boolean;
  file: string;
  stream: string;
  start?: string;
  end?: string;
  timeZone?: string;
  /** `--account`: the account the file belongs to (needed when the config has several). */
  account?: string[];
}

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

/** The span of a file's event times, for a file loaded without --start/--end. */
async function eventSpan(
  file: string,
  stream: Parameters<typeof mapHeaders>[0],
  zone: string,
): Promise<{ start: Date; end: Date }> {
  const records = readCsvRecords(file);
  const first = await records.next();
  if (first.done) throw new ConfigError(`${file} is empty`);
  const layout = mapHeaders(stream, first.value.fields, 'ignore');
  const typer = createRowTyper(layout, stream.eventTime, zone);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for await (const rec of records) {
    const r = typer(rec.fields, rec.line);
    if (!r.ok) continue;
    const t = r.eventTime.getTime();
    if (t < min) min = t;
    if (t > max) max = t;
  }
  if (!Number.isFinite(min))
    throw new ConfigError(`${file} has no row with a readable ${stream.eventTime}; give --start and --end`);
  return { start: new Date(min), end: new Date(max + 1) };
}

/**
 * Loads a CSV downloaded by hand from the dashboard, with the same schema, rejection and replace
 * rules as a sync. The file is archived and recorded in the ledger (it spends no quota), so it
 * can be replayed like an export.
 */
export async function loadFileCommand(args: LoadFileArgs, log: Logger): Promise<number> {
  const d = openDeployment(args.config, log, args.account);
  try {
    const ctx = onlyAccount(d, 'load-file loads into one account');
    const config = ctx.config;
    const stream = config.streams.find((s) => s.schema.name === args.stream);
    if (!stream)
      throw new ConfigError(
        `--stream ${args.stream}: not an enabled stream; enabled: ${config.streams.map((s) => s.schema.name).join(', ')}`,
      );
    const file = resolve(args.file);
    if (!existsSync(file)) throw new ConfigError(`${args.file}: no such file`);
    const zone = args.timeZone ?? stream.timeZone;
    const window = parseWindowArgs(args) ?? (await eventSpan(file, stream.schema, zone));
    if (!(window.start < window.end)) throw new ConfigError('--start must be before --end');
    await ctx.state.migrate();
    const now = ctx.clock.now();
    const digest = await sha256(file);
    const safeName =
      basename(file)
        .replace(/\.csv$/i, '')
        .replace(/[^A-Za-z0-9_-]/g, '_')
        .slice(0, 80) || 'file';
    const inserted = await ctx.state.exports.insert(
      recordLocalFile(
        {
          account: config.accountKey,
          stream: stream.schema.name,
          apiPath: 'load-file',
          windowStart: window.start,
          windowEnd: window.end,
          timeZone: zone,
          requestBody: JSON.stringify({ file: basename(file), sha256: digest }),
          fileName: safeName,
        },
        now,
      ),
      ctx.owner,
      now,
    );
    const dest = archivePath(config.archive.dir, inserted);
    await mkdir(join(config.archive.dir, stream.schema.name), { recursive: true });
    await copyFile(file, dest);
    const row = await ctx.state.exports.write(
      inserted.ledgerId,
      localFileCopied(inserted, { archivePath: dest, sha256: digest, bytes: statSync(dest).size }, now),
      now,
    );
    const loaded = await reloadArchived(row, stream, ctx);
    const base = {
      command: 'load-file',
      ledgerId: row.ledgerId,
      stream: row.stream,
      windowStart: window.start.toISOString(),
      windowEnd: window.end.toISOString(),
    };
    const result = loaded.ok
      ? { ...base, outcome: 'done', exitCode: ExitCode.done, rows: loaded.rows, rejected: loaded.rejected }
      : { ...base, outcome: 'failed', exitCode: ExitCode.failed, error: loaded.error };
    emit(result, args.json, () =>
      loaded.ok
        ? `loaded ${args.file} into ${row.stream} [${base.windowStart}, ${base.windowEnd}): ${loaded.rows} rows, ${loaded.rejected} rejected (ledger id ${row.ledgerId})`
        : `load of ${args.file} failed: ${loaded.error}`,
    );
    return result.exitCode;
  } finally {
    await d.close();
  }
}

export const loadFileCli = defineCommand({
  command: 'load-file <file>',
  describe: 'load a CSV downloaded by hand from the dashboard; spends no quota',
  builder: (y) =>
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
  run: (a, log) => loadFileCommand(a, log),
});
