/**
 * The schedule simulator's harness: one virtual clock (`now`) shared by the vendor simulator and
 * the engine's `Clock` drives the real engine (`runSync` with deps from `createDeployment`) and the
 * real state store, on a fresh PostgreSQL database, against the simulator over HTTP on loopback.
 * A scenario calls `runAt(time, options)` for each run of its schedule; the harness advances the
 * clock, samples every stream's lag on a fixed grid from the state store's watermarks, and counts
 * what the vendor saw. It measures whatever the engine does: it only calls its public functions.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Outsider } from '../simulator/outsider.js';
import { rng } from '../simulator/simulator-data.js';
import { type RunningSimulator, startSimulator } from '../simulator/simulator-server.js';
import {
  type Clock,
  type Context,
  createDeployment,
  createLogger,
  resolveConfig,
  runSync,
  type SyncOptions,
  type SyncSummary,
} from '../src/index.js';
import { type Attempt, computeMetrics, type ScenarioMetrics } from './sim-metrics.js';

export const allStreams = ['copilot_kb', 'copilot_as', 'copilot_aq', 'autopilot_gr'] as const;
export const hourMs = 3_600_000;
export const dayMs = 24 * hourMs;

export interface HarnessOptions {
  /** The scenario's first instant (virtual). */
  readonly start: Date;
  readonly days: number;
  /** Lag counts as steady-state from this many days after the start (default 3). */
  readonly warmupDays?: number;
  /** A request bringing less new data than this beyond the stream's watermark is "little" (default 1 h). */
  readonly littleDataMs?: number;
  /**
   * The vendor receives each request a seeded-uniform 0 to this many ms after the engine sent it
   * (the virtual clock moves on by as much during the request; default 3000). A slot counted from
   * the engine's reservation can free before the vendor's does when this request travels faster
   * than the one 24 h earlier: how an hourly cron meets a quota 400.
   */
  readonly requestLatencyMs?: number;
  /** Seed of the request latencies (default 1). */
  readonly latencySeed?: number;
  /** Lag sampling interval (default 10 minutes). */
  readonly sampleEveryMs?: number;
  /** The vendor's quota per rolling 24 h (the simulator's; default 3). */
  readonly vendorQuota?: number;
  /** `account.exportsPer24h` (default 3). */
  readonly exportsPer24h?: number;
  /** One simulated event per stream per this much time (default 2 h: 12 rows a day). */
  readonly dataSlotMs?: number;
  readonly streams?: readonly string[];
  /** Merged over the generated config, one level deep (`account`, `defaults`, `streams`...). */
  readonly configPatch?: Record<string, unknown>;
  /** An existing database to use as is; else one is created on `adminDatabaseUrl` and dropped. */
  readonly database?: { readonly url: string; readonly copy: boolean };
  /** Default DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test. */
  readonly adminDatabaseUrl?: string;
  /** Called once per simulated day with a progress line (default: none). */
  readonly progress?: (line: string) => void;
  /** Label for progress lines. */
  readonly label?: string;
}

/** One `runSync` as the harness saw it. */
export interface RunRecord {
  readonly at: number;
  readonly exitCode: number;
  readonly exportsRequested: number;
  readonly explicitWindow: boolean;
}

export interface Harness {
  /** The virtual time, ms since the epoch. */
  now(): number;
  readonly startMs: number;
  readonly endMs: number;
  readonly streams: readonly string[];
  readonly sim: RunningSimulator;
  readonly ctx: Context;
  /** Advances the clock to `at` (never back), then runs one sync and records what it did. */
  runAt(at: number, options?: SyncOptions): Promise<SyncSummary>;
  /** Advances the clock to `at` (never back), sampling the lag on the way: before a fault is switched. */
  advanceTo(at: number): void;
  /**
   * Advances the clock to `at`, then someone else on the account (a person in the dashboard,
   * another tool) requests an export over HTTP, as the vendor sees it; true when it was accepted.
   */
  outsiderExport(at: number): Promise<boolean>;
  /** Advances the clock to the scenario's end and computes the metrics. */
  finish(extra?: Record<string, number>): Promise<ScenarioMetrics>;
  close(): Promise<void>;
}

/** What the harness keeps while a scenario runs; `sim-metrics.ts` turns it into numbers. */
export interface Recording {
  readonly startMs: number;
  readonly endMs: number;
  readonly warmupMs: number;
  readonly littleDataMs: number;
  readonly exportsPer24h: number;
  readonly streams: readonly string[];
  /** Per stream: lag samples (ms) with their time. */
  readonly samples: Map<string, { t: number; lagMs: number }[]>;
  readonly runs: RunRecord[];
  readonly attempts: Attempt[];
  /** Accepted requests: new data beyond the stream's watermark, or null (first sync, explicit window). */
  readonly newData: { stream: string; at: number; newDataMs: number | null }[];
  readonly watermarkRegressions: { stream: string; at: number; from: string; to: string }[];
  /** Someone else's export requests on the account, and whether the vendor took them. */
  readonly outsider: { at: number; accepted: boolean }[];
}

const defaultAdminUrl = () => process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

async function createDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `schedsim_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Starts the simulator, the database and the engine's context on one virtual clock. */
export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const startMs = options.start.getTime();
  const endMs = startMs + options.days * dayMs;
  const maxLatencyMs = options.requestLatencyMs ?? 3000;
  const latency = rng(options.latencySeed ?? 1);
  const sampleEveryMs = options.sampleEveryMs ?? 10 * 60_000;
  const exportsPer24h = options.exportsPer24h ?? 3;
  const streams = options.streams ?? allStreams;
  let now = startMs;
  const clock: Clock = { now: () => new Date(now) };
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  };

  try {
    const sim = await startSimulator({
      now: () => now,
      data: { slotMs: options.dataSlotMs ?? 2 * hourMs, seed: 14 },
      faults: { quota: options.vendorQuota ?? 3, processingMs: 0, tokenTtlSeconds: 10 * 365 * 86_400 },
    });
    cleanups.push(() => sim.close());
    let db = options.database;
    if (!db) {
      const created = await createDatabase(options.adminDatabaseUrl ?? defaultAdminUrl());
      cleanups.push(() => created.drop());
      db = { url: created.url, copy: true };
    }
    const dir = await mkdtemp(join(tmpdir(), 'schedsim-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));

    const patch = options.configPatch ?? {};
    const sub = (k: string) => (patch[k] as Record<string, unknown> | undefined) ?? {};
    const config = resolveConfig(
      {
        ...patch,
        account: {
          name: 'schedsim',
          authUrl: sim.authUrl,
          apiBase: sim.apiBase,
          ...sim.credentials,
          exportsPer24h,
          pollIntervalSeconds: 0.01,
          pollMaxIntervalSeconds: 0.05,
          httpRetryBaseMs: 10,
          ...sub('account'),
        },
        archive: { dir: join(dir, 'archive'), keepDays: 1, ...sub('archive') },
        destination: { type: 'postgres', url: db.url, schema: 'cxone', copy: db.copy, ...sub('destination') },
        streams: { ...Object.fromEntries(streams.map((s) => [s, {}])), ...sub('streams') },
      },
      {},
      'schedule simulator config',
    );
    const log = createLogger({ level: 'warn', format: 'human' }, { sim: options.label ?? 'schedsim' });
    const deployment = createDeployment(config, log, { clock });
    cleanups.push(() => deployment.close());
    const ctx = deployment.accounts[0]!;
    const accountKey = ctx.config.accountKey;
    await ctx.state.migrate();

    const rec: Recording = {
      startMs,
      endMs,
      warmupMs: (options.warmupDays ?? 3) * dayMs,
      littleDataMs: options.littleDataMs ?? hourMs,
      exportsPer24h,
      streams,
      samples: new Map(streams.map((s) => [s, []])),
      runs: [],
      attempts: [],
      newData: [],
      watermarkRegressions: [],
      outsider: [],
    };

    // The vendor receives each request some time after the engine sends it; every attempt is
    // recorded at the engine's send time with the vendor's answer.
    const inner = ctx.client;
    const submit: typeof inner.submit = async (prepared) => {
      const sentAt = now;
      now += Math.round(latency() * maxLatencyMs);
      try {
        const answer = await inner.submit(prepared);
        rec.attempts.push({ sentAt, accepted: true });
        return answer;
      } catch (err) {
        rec.attempts.push({ sentAt, accepted: false });
        throw err;
      }
    };
    const client = new Proxy(inner, {
      get(target, key) {
        if (key === 'submit') return submit;
        const v = Reflect.get(target, key, target) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    // An engine that takes an injected sleep (polling, backoff) waits in virtual time.
    const sleep = async (ms: number) => {
      now += ms;
      await new Promise((r) => setImmediate(r));
    };
    const deps = Object.assign({}, ctx, { client, sleep });

    let watermarks = new Map<string, Date>();
    let nextSample = startMs;
    let nextDay = startMs + dayMs;
    const sampleUntil = (t: number, inclusive: boolean) => {
      while (nextSample < t || (inclusive && nextSample === t)) {
        if (nextSample > endMs) break;
        for (const s of streams) {
          const wm = watermarks.get(s)?.getTime() ?? startMs;
          rec.samples.get(s)!.push({ t: nextSample, lagMs: nextSample - wm });
        }
        nextSample += sampleEveryMs;
      }
      while (nextDay <= Math.min(t, endMs)) {
        const day = Math.round((nextDay - startMs) / dayMs);
        const refused = sim.stats.rejectedExportRequests.length;
        options.progress?.(
          `${options.label ?? 'schedsim'}: day ${day}/${options.days}, ${rec.runs.length} runs, ` +
            `${sim.stats.exportRequests.length} exports, ${refused} refused`,
        );
        nextDay += dayMs;
      }
    };

    const advanceTo = (at: number) => {
      // Samples at the instant itself see the watermarks from before it.
      sampleUntil(at, true);
      now = Math.max(now, at);
    };
    const outsider = new Outsider(sim, () => now);
    return {
      now: () => now,
      startMs,
      endMs,
      streams,
      sim,
      ctx,
      advanceTo,
      async outsiderExport(at) {
        advanceTo(at);
        const accepted = await outsider.export();
        rec.outsider.push({ at: now, accepted });
        return accepted;
      },
      async runAt(at, syncOptions = {}) {
        advanceTo(at);
        const startedAt = now;
        const firstNew = sim.stats.exportRequests.length;
        const before = watermarks;
        // Recorded in the run log as the CLI does: the scheduler reads how often syncs run.
        const runId = await ctx.state.runs.start('sync', accountKey, new Date(now));
        const summary = await runSync(deps, { ...syncOptions, runId });
        await ctx.state.runs.finish(runId, summary.outcome, summary.exitCode, {}, new Date(now));
        const explicit = syncOptions.window !== undefined;
        rec.runs.push({
          at: startedAt,
          exitCode: summary.exitCode,
          exportsRequested: summary.exportsRequested,
          explicitWindow: explicit,
        });
        const lastEnd = new Map<string, number>();
        for (const r of sim.stats.exportRequests.slice(firstNew).filter((x) => !x.client)) {
          const end = Date.parse(r.endDate) + 1;
          const prior = lastEnd.get(r.stream) ?? before.get(r.stream)?.getTime();
          rec.newData.push({
            stream: r.stream,
            at: r.createdAt,
            newDataMs: explicit || prior === undefined ? null : end - prior,
          });
          lastEnd.set(r.stream, Math.max(end, prior ?? end));
        }
        const after = await ctx.state.watermarks.byStream(accountKey);
        for (const [s, from] of before) {
          const to = after.get(s);
          if (!to || to < from) {
            rec.watermarkRegressions.push({
              stream: s,
              at: now,
              from: from.toISOString(),
              to: to?.toISOString() ?? 'none',
            });
          }
        }
        watermarks = after;
        return summary;
      },
      async finish(extra = {}) {
        sampleUntil(endMs, true);
        now = Math.max(now, endMs);
        return computeMetrics(rec, sim.stats, extra);
      },
      close: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
