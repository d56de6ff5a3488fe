import { resolve } from 'node:path';
import { streamSchemas } from '../../schemas/index.js';
import { loadConfig } from '../config/load-config.js';
import { checkArchiveDir } from '../engine/archive-check.js';
import { backoffNote, inBackoff } from '../engine/export-backoff.js';
import { nextDue, recordNextDue } from '../engine/next-due.js';
import type { Logger } from '../log/logger.js';
import { rowJsonSchema } from '../model/row-schema.js';
import { createContext, withContext } from './context.js';
import { ago, dueText, emit, table } from './output.js';

export async function streamsCommand(args: { json: boolean }): Promise<number> {
  const result = streamSchemas.map((s) => ({
    name: s.name,
    apiPaths: s.apiPaths,
    eventTime: s.eventTime,
    accepts: s.accepts,
    description: s.description,
    jsonSchema: rowJsonSchema(s),
  }));
  emit(args.json ? result : null, args.json, () =>
    streamSchemas
      .map(
        (s) =>
          `${s.name}  (${s.apiPaths.join(' | ')}; event time ${s.eventTime})\n  ${s.description}\n${table(
            s.columns.map((c) => ['   ', c.name, c.type, c.headers.join(' / '), c.description]),
          )}`,
      )
      .join('\n\n'),
  );
  return 0;
}

export async function checkCommand(args: { config?: string; json: boolean }, log: Logger): Promise<number> {
  const config = loadConfig(args.config);
  const ctx = createContext(config, log);
  const checks: { check: string; ok: boolean; detail?: string }[] = [];
  try {
    checks.push({ check: 'config', ok: true, detail: `${config.streams.length} stream(s) enabled` });
    const { freeBytes } = await checkArchiveDir(config.archive.dir, config.archive.minFreeMB);
    checks.push({
      check: 'archive',
      ok: true,
      detail: `${resolve(config.archive.dir)} writable, ${Math.floor(freeBytes / 1_048_576)} MB free`,
    });
    await ctx.tokens.get();
    checks.push({
      check: 'credentials',
      ok: true,
      detail: `token from ${new URL(config.raw.account.authUrl).host}`,
    });
    await ctx.state.ping();
    checks.push({ check: 'state store', ok: true });
    const found = await ctx.destination.check(config.streams.map((s) => s.schema));
    checks.push({ check: `destination (${ctx.destination.name})`, ok: true, detail: found });
  } finally {
    await ctx.close();
  }
  emit({ command: 'check', ok: true, account: config.accountKey, checks }, args.json, () =>
    checks.map((c) => `ok  ${c.check}${c.detail ? `: ${c.detail}` : ''}`).join('\n'),
  );
  return 0;
}

export async function migrateCommand(args: { config?: string; json: boolean }, log: Logger): Promise<number> {
  const config = loadConfig(args.config);
  const ctx = createContext(config, log);
  try {
    const applied = await ctx.state.migrate();
    for (const s of config.streams) await ctx.destination.prepare(s.schema, []);
    // The freshness view has a row per enabled stream, with its next due time, before any sync.
    await recordNextDue({ state: ctx.state, config, now: ctx.clock.now() });
    const tables = config.streams.map((s) => s.schema.name);
    emit({ command: 'migrate', applied, tables }, args.json, () =>
      [
        applied.length ? `applied: ${applied.join(', ')}` : 'state store up to date',
        `destination tables ensured: ${tables.join(', ')}`,
      ].join('\n'),
    );
    return 0;
  } finally {
    await ctx.close();
  }
}

export async function statusCommand(args: { config?: string; json: boolean }, log: Logger): Promise<number> {
  return withContext(args.config, log, async (ctx) => {
    const config = ctx.config;
    const now = ctx.clock.now();
    const account = config.accountKey;
    const [watermarks, gaps, inFlight, runs, quota] = await Promise.all([
      ctx.state.watermarks.byStream(account),
      ctx.state.watermarks.gaps(account),
      ctx.state.exports.unfinished(
        account,
        config.streams.map((s) => s.schema.name),
      ),
      ctx.state.runs.last(account, 1),
      ctx.state.quota.view(account, config.exportsPer24h, now),
    ]);
    // What the scheduler would decide if a sync ran now.
    const due = (await nextDue({ state: ctx.state, config, now, watermarks })).streams;
    const streams = config.streams.map((s) => {
      const name = s.schema.name;
      const wm = watermarks.get(name) ?? null;
      return {
        stream: name,
        watermark: wm?.toISOString() ?? null,
        lagMinutes: wm ? Math.round((now.getTime() - wm.getTime()) / 60_000) : null,
        nextDueAt: due.get(name)?.dueAt?.toISOString() ?? null,
        dueNote: due.get(name)?.note ?? null,
        gaps: gaps
          .filter((g) => g.stream === name)
          .map((g) => ({ start: g.gap_start.toISOString(), end: g.gap_end.toISOString(), reason: g.reason })),
        inFlight: inFlight
          .filter((e) => e.stream === name)
          .map((e) => ({
            ledgerId: e.id,
            exportId: e.vendor_export_id,
            status: e.status,
            windowStart: e.window_start.toISOString(),
            windowEnd: e.window_end.toISOString(),
            error: e.error,
            failures: e.failures,
            nextAttemptAt: e.next_attempt_at?.toISOString() ?? null,
            ...(inBackoff(e, now) ? { stuck: backoffNote(e) } : {}),
          })),
      };
    });
    const lastRun = runs[0]
      ? {
          id: runs[0].id,
          startedAt: runs[0].started_at.toISOString(),
          endedAt: runs[0].ended_at?.toISOString() ?? null,
          outcome: runs[0].outcome,
        }
      : null;
    const result = {
      command: 'status',
      account,
      quota: {
        limit: quota.limit,
        used: quota.used,
        nextSlotAt: quota.nextSlotAt?.toISOString() ?? null,
        blockedUntil: quota.blockedUntil?.toISOString() ?? null,
      },
      lastRun,
      streams,
    };
    emit(result, args.json, () => {
      const rows = [['stream', 'watermark', 'lag', 'next due', 'in flight', 'gaps']];
      for (const s of streams) {
        rows.push([
          s.stream,
          s.watermark ?? 'never synced',
          ago(s.watermark ? new Date(s.watermark) : null, now),
          dueText(s.nextDueAt, s.dueNote, now),
          String(s.inFlight.length),
          s.gaps.map((g) => `${g.start}..${g.end}`).join('; ') || '-',
        ]);
      }
      const free = quota.blockedUntil ?? quota.nextSlotAt;
      const stuck = streams.flatMap((s) =>
        s.inFlight.flatMap((e) => (e.stuck ? [`${s.stream}: ${e.stuck}`] : [])),
      );
      return `${stuck.length ? `stuck exports (sync exits 1 for their streams):\n${stuck.join('\n')}\n` : ''}account ${account}: quota ${quota.used}/${quota.limit} used in the last 24h${free ? `, next slot ${free.toISOString()}` : ''}\nlast run: ${lastRun ? `${lastRun.outcome ?? 'running'} at ${lastRun.startedAt}` : 'none'}\n${table(rows)}`;
    });
    return 0;
  });
}
