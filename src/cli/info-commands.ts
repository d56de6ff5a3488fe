import { resolve } from 'node:path';
import { streamSchemas } from '../../schemas/index.js';
import { loadConfig } from '../config/load-config.js';
import { checkArchiveDir } from '../engine/archive-check.js';
import { backoffNote, inBackoff } from '../engine/export-backoff.js';
import { horizon } from '../engine/planner.js';
import { planStreams, selectStreams } from '../engine/sync-plan.js';
import type { Logger } from '../log/logger.js';
import { rowJsonSchema } from '../model/row-schema.js';
import { createContext, withContext } from './context.js';
import { ago, emit, table } from './output.js';
import { parseInstant } from './sync-command.js';

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
    emit({ command: 'migrate', applied, tables: config.streams.map((s) => s.schema.name) }, args.json, () =>
      applied.length
        ? `applied: ${applied.join(', ')}`
        : 'state store up to date; destination tables ensured',
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
    const streams = config.streams.map((s) => {
      const name = s.schema.name;
      const wm = watermarks.get(name) ?? null;
      return {
        stream: name,
        watermark: wm?.toISOString() ?? null,
        lagMinutes: wm ? Math.round((now.getTime() - wm.getTime()) / 60_000) : null,
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
      const rows = [['stream', 'watermark', 'lag', 'in flight', 'gaps']];
      for (const s of streams) {
        rows.push([
          s.stream,
          s.watermark ?? 'never synced',
          ago(s.watermark ? new Date(s.watermark) : null, now),
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

export async function planCommand(
  args: { config?: string; json: boolean; stream?: string[]; start?: string; end?: string },
  log: Logger,
): Promise<number> {
  return withContext(args.config, log, async (ctx) => {
    const config = ctx.config;
    const now = ctx.clock.now();
    const account = config.accountKey;
    const rule = config.horizon;
    const watermarks = await ctx.state.watermarks.byStream(account);
    const inFlight = await ctx.state.exports.unfinished(
      account,
      config.streams.map((s) => s.schema.name),
    );
    const quota = await ctx.state.quota.view(account, config.exportsPer24h, now);
    const explicit =
      args.start && args.end
        ? { start: parseInstant('start', args.start), end: parseInstant('end', args.end) }
        : undefined;
    let slots = quota.blockedUntil ? 0 : Math.max(0, quota.limit - quota.used);
    const planned = planStreams(selectStreams(config, args.stream), watermarks, now, rule, explicit);
    const streams = planned.map(({ stream: s, plan }) => {
      const stream = s.schema.name;
      const watermark = watermarks.get(stream);
      const resuming = inFlight.filter((e) => e.stream === stream);
      const windows = plan.windows.map((w, i) => {
        const when = resuming.length
          ? 'after the unfinished export'
          : i === 0 && slots > 0
            ? 'now'
            : 'when a quota slot frees';
        if (when === 'now') slots--;
        return { start: w.start.toISOString(), end: w.end.toISOString(), when };
      });
      return {
        stream,
        watermark: watermark?.toISOString() ?? null,
        resume: resuming.map((e) => ({ ledgerId: e.id, status: e.status })),
        windows,
        gaps: plan.gaps.map((g) => ({
          start: g.start.toISOString(),
          end: g.end.toISOString(),
          reason: g.reason,
        })),
        note: plan.note ?? null,
      };
    });
    const result = {
      command: 'plan',
      account,
      now: now.toISOString(),
      horizon: horizon(now, rule).toISOString(),
      quota: {
        limit: quota.limit,
        used: quota.used,
        left: Math.max(0, quota.limit - quota.used),
        nextSlotAt: (quota.blockedUntil ?? quota.nextSlotAt)?.toISOString() ?? null,
      },
      streams,
    };
    emit(result, args.json, () => {
      const rows = [['stream', 'window start', 'window end', 'when']];
      for (const s of streams) {
        for (const r of s.resume) rows.push([s.stream, `resume export ${r.ledgerId}`, r.status, 'now']);
        for (const w of s.windows) rows.push([s.stream, w.start, w.end, w.when]);
        if (!s.windows.length && !s.resume.length) rows.push([s.stream, '-', '-', s.note ?? 'nothing due']);
      }
      return `quota ${result.quota.used}/${result.quota.limit} used; ${result.quota.left} left${result.quota.nextSlotAt ? `; next slot ${result.quota.nextSlotAt}` : ''}\nhorizon ${result.horizon}\n${table(rows)}`;
    });
    return 0;
  });
}
