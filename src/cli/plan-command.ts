import { parseDuration } from '../config/duration.js';
import { accountsForStreams, type Context, withDeployment } from '../deployment/deployment.js';
import { UsageError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { forecast } from '../plan/forecast.js';
import { type Cadence, forecastInput } from '../plan/forecast-input.js';
import { horizon } from '../plan/planner.js';
import { planStreams, selectStreams } from '../plan/sync-plan.js';
import { nextDue, type StreamDue } from '../run/next-due.js';
import { quotaShare } from '../run/sync-schedule.js';
import { quotaSummary } from '../run/sync-summary.js';
import { defineCommand, parseWindowArgs, windowOptions } from './cli-command.js';
import { backoffLines, backoffView, dueText, emitPerAccount, quotaText, table } from './output.js';

export interface PlanArgs {
  config?: string;
  json: boolean;
  stream?: string[];
  start?: string;
  end?: string;
  /** `--horizon 7d`: also forecast the exports of the coming days. */
  horizon?: string;
  /** `--account`: only these accounts (default: all). */
  account?: string[];
}

const hourMs = 3_600_000;
/** The longest `--horizon`: the ledger's history covers 7 days; a quarter is plenty. */
const maxHorizonMs = 90 * 24 * hourMs;

const hours = (ms: number) => Math.round((ms / hourMs) * 10) / 10;

/** `7d`, `36h`... as milliseconds, or a usage error. */
export function parseHorizon(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0 || ms > maxHorizonMs)
    throw new UsageError(
      `--horizon ${JSON.stringify(text)}: give a duration up to 90d, e.g. 7d, 36h (a bare number is seconds)`,
    );
  return ms;
}

/**
 * `plan`: what a sync would request now (the windows, the quota left, each stream's next due
 * time from the scheduler), and with `--horizon` when each stream's next exports will be
 * requested and the lag to expect, played forward by the scheduler over the runs to come.
 */
export async function planCommand(args: PlanArgs, log: Logger): Promise<number> {
  const horizonMs = args.horizon === undefined ? undefined : parseHorizon(args.horizon);
  const explicit = parseWindowArgs(args);
  if (explicit && horizonMs !== undefined)
    throw new UsageError('--horizon forecasts incremental syncs; it does not go with --start/--end');
  return withDeployment(args.config, log, args.account, async (d) => {
    const shown: { result: unknown; text: string }[] = [];
    for (const { ctx, streams } of accountsForStreams(d, args.stream))
      shown.push(
        await accountPlan(ctx, { ...args, ...(streams ? { stream: streams } : {}) }, explicit, horizonMs),
      );
    emitPerAccount('plan', shown, args.json, d.config.raw.accounts !== undefined);
    return 0;
  });
}

/** One account's plan (and forecast), as JSON and as text. */
async function accountPlan(
  ctx: Context,
  args: PlanArgs,
  explicit: { start: Date; end: Date } | undefined,
  horizonMs: number | undefined,
): Promise<{ result: unknown; text: string }> {
  const config = ctx.config;
  const now = ctx.clock.now();
  const account = config.accountKey;
  const rule = config.horizon;
  const watermarks = await ctx.state.watermarks.byStream(account);
  const inFlight = await ctx.state.exports.unfinished(
    account,
    config.streams.map((s) => s.schema.name),
  );
  const quota = await ctx.state.quota.view(account, config.quota, now);
  // An explicit window is a deliberate request, served when a slot is free: no scheduling.
  const selected = selectStreams(config, args.stream);
  const next = explicit ? undefined : await nextDue({ state: ctx.state, config, now, watermarks });
  const due = next?.streams;
  // The incremental plans are the ones the scheduler was asked about (stalest first); an
  // explicit window is planned here.
  const planned = next
    ? [...next.plans]
        .map(([name, plan]) => ({ stream: selected.find((s) => s.schema.name === name), plan }))
        .filter(
          (p): p is { stream: (typeof selected)[number]; plan: typeof p.plan } => p.stream !== undefined,
        )
    : planStreams(selected, watermarks, now, rule, explicit);
  // The free slots go to the streams in the order a sync would send them: the scheduler's
  // priority (incremental), or stalest first (an explicit window).
  let slots = quota.blockedUntil ? 0 : Math.max(0, quota.limit - quota.used);
  const order = due ? [...due.keys()] : planned.map((p) => p.stream.schema.name);
  const getsSlot = new Set<string>();
  for (const name of order) {
    const p = planned.find((x) => x.stream.schema.name === name);
    if (!p?.plan.windows.length || inFlight.some((e) => e.stream === name)) continue;
    if (due && !due.get(name)?.request) continue;
    if (slots > 0) {
      getsSlot.add(name);
      slots--;
    }
  }
  const streams = planned.map(({ stream: s, plan }) => {
    const stream = s.schema.name;
    const watermark = watermarks.get(stream);
    const resuming = inFlight.filter((e) => e.stream === stream);
    const d: StreamDue | undefined = due?.get(stream);
    const windows = plan.windows.map((w, i) => {
      const when = resuming.length
        ? 'after the unfinished export'
        : d?.backoff
          ? `backed off until ${d.backoff.nextAttemptAt.toISOString()} (${d.backoff.reason})`
          : d && !d.request && d.dueAt
            ? `not due until ${d.dueAt.toISOString()}`
            : i === 0 && getsSlot.has(stream)
              ? 'now'
              : 'when a quota slot frees';
      return { start: w.start.toISOString(), end: w.end.toISOString(), when };
    });
    return {
      stream,
      watermark: watermark?.toISOString() ?? null,
      resume: resuming.map((e) => ({ ledgerId: e.ledgerId, status: e.status })),
      windows,
      gaps: plan.gaps.map((g) => ({
        start: g.start.toISOString(),
        end: g.end.toISOString(),
        reason: g.reason,
      })),
      note: plan.note ?? null,
      nextDueAt: d?.dueAt?.toISOString() ?? null,
      dueNote: d ? (d.note ?? (d.backlog ? 'first sync or backlog: unpaced' : null)) : null,
      backoff: backoffView(d?.backoff ?? null),
    };
  });
  const result = {
    command: 'plan',
    account,
    now: now.toISOString(),
    horizon: horizon(now, rule).toISOString(),
    quota: {
      ...quotaSummary(quota),
      left: Math.max(0, quota.limit - quota.used),
      nextSlotAt: (quota.blockedUntil ?? quota.nextSlotAt)?.toISOString() ?? null,
    },
    streams,
    ...(horizonMs !== undefined
      ? { forecast: await forecastSection(ctx, now, horizonMs, args.horizon!, watermarks, args.stream) }
      : {}),
  };
  const text = (() => {
    const rows = [['stream', 'window start', 'window end', 'when', 'next due']];
    for (const s of streams) {
      const next = dueText(s.nextDueAt, null, now);
      for (const r of s.resume) rows.push([s.stream, `resume export ${r.ledgerId}`, r.status, 'now', next]);
      for (const w of s.windows) rows.push([s.stream, w.start, w.end, w.when, next]);
      if (!s.windows.length && !s.resume.length)
        rows.push([s.stream, '-', '-', s.note ?? 'nothing due', next]);
    }
    const backedOff = backoffLines(streams);
    const head = `account ${account}: ${quotaText(quota)}; ${result.quota.left} left${result.quota.nextSlotAt ? `; next slot ${result.quota.nextSlotAt}` : ''}\nhorizon ${result.horizon}\n${backedOff.length ? `backed off:\n${backedOff.join('\n')}\n` : ''}${table(rows)}`;
    return result.forecast ? `${head}\n\n${humanForecast(result.forecast)}` : head;
  })();
  return { result, text };
}

interface ForecastSection {
  readonly horizon: string;
  readonly until: string;
  readonly cadence: {
    readonly everyMs: number;
    readonly everyHours: number;
    readonly source: Cadence['source'];
    readonly fromRuns: number;
    readonly runs: number;
  };
  readonly streams: readonly {
    readonly stream: string;
    readonly requests: readonly string[];
    readonly nextRequestAt: string | null;
    readonly worstLagHours: number;
    readonly meanLagHours: number;
  }[];
}

/** The forecast over `horizonMs` from the ledger's history, at the cadence the connector runs. */
async function forecastSection(
  ctx: Context,
  now: Date,
  horizonMs: number,
  horizonText: string,
  watermarks: ReadonlyMap<string, Date>,
  only: readonly string[] | undefined,
): Promise<ForecastSection> {
  const config = ctx.config;
  const account = config.accountKey;
  const history = await ctx.state.quota.history(account, now);
  const previousRuns = await ctx.state.runs.previousStarts(account, 'sync', undefined);
  // A stream the API refuses takes no share (its backoff is not played forward).
  const share = await quotaShare(ctx.state, config, now);
  const { input, cadence } = forecastInput({
    now,
    horizonMs,
    quota: share.quota,
    streams: share.streams,
    watermarks,
    history,
    previousRuns,
  });
  const f = forecast(input);
  const shown = selectStreams(config, only).map((s) => s.schema.name);
  return {
    horizon: horizonText,
    until: new Date(now.getTime() + horizonMs).toISOString(),
    cadence: {
      everyMs: cadence.everyMs,
      everyHours: hours(cadence.everyMs),
      source: cadence.source,
      fromRuns: cadence.fromRuns,
      runs: input.runs.length,
    },
    streams: f.streams
      .filter((s) => shown.includes(s.stream))
      .map((s) => ({
        stream: s.stream,
        requests: s.requests.map((d) => d.toISOString()),
        nextRequestAt: s.requests[0]?.toISOString() ?? null,
        worstLagHours: hours(s.worstLagMs),
        meanLagHours: hours(s.meanLagMs),
      })),
  };
}

function humanForecast(f: ForecastSection): string {
  const why =
    f.cadence.source === 'default'
      ? 'the default: fewer than 3 syncs recorded'
      : `the upper quartile of the gaps between the last ${f.cadence.fromRuns} syncs`;
  const rows = [['stream', 'exports', 'worst lag', 'mean lag', 'requests at']];
  for (const s of f.streams) {
    rows.push([
      s.stream,
      String(s.requests.length),
      `${s.worstLagHours} h`,
      `${s.meanLagHours} h`,
      s.requests.map((r) => `${r.slice(5, 16).replace('T', ' ')}Z`).join(' ') || '-',
    ]);
  }
  return `forecast to ${f.until} (${f.horizon}), assuming a sync every ${f.cadence.everyHours} h (${why}; ${f.cadence.runs} runs):\n${table(rows)}`;
}

export const planCli = defineCommand({
  command: 'plan',
  describe:
    "what a sync would request now, each stream's next due time; --horizon 7d forecasts the exports to come; changes nothing",
  builder: (y) =>
    windowOptions(y).option('horizon', {
      type: 'string',
      describe:
        "forecast each stream's export requests and lag over this duration (7d, 36h), at the cadence syncs have been run",
    }),
  run: (a, log) => planCommand(a, log),
});
