import type { StreamConfig } from '../ports/run-settings.js';
import type { QuotaHistory } from '../ports/state-ports.js';
import type { ForecastInput } from './forecast.js';
import { expectedRunGapMs } from './scheduler.js';

const minuteMs = 60_000;
const hourMs = 60 * minuteMs;

/** The cadence assumed when fewer than three earlier syncs are recorded: hourly. */
export const defaultCadenceMs = hourMs;
/** Runs closer together than this (syncs run by hand in a row) are assumed this far apart. */
export const minCadenceMs = 5 * minuteMs;

/** How often the connector is assumed to run over the forecast, and why. */
export interface Cadence {
  readonly everyMs: number;
  /** `recent runs`: the upper quartile of the gaps between them; `default`: too few runs known. */
  readonly source: 'recent runs' | 'default';
  /** Earlier syncs the cadence was taken from. */
  readonly fromRuns: number;
}

/**
 * The cadence the connector has been run at: the upper quartile of the gaps between its recent
 * syncs ({@link expectedRunGapMs}, the scheduler's own guess of when the next run comes, taken
 * at the latest run), at least {@link minCadenceMs}; hourly when fewer than three are known.
 */
export function assumedCadence(previousRuns: readonly Date[]): Cadence {
  const [latest, ...earlier] = previousRuns;
  const gap = latest ? expectedRunGapMs(latest, earlier) : undefined;
  if (gap === undefined)
    return { everyMs: defaultCadenceMs, source: 'default', fromRuns: previousRuns.length };
  return {
    everyMs: Math.max(minCadenceMs, gap),
    source: 'recent runs',
    fromRuns: Math.min(previousRuns.length, 9),
  };
}

/**
 * The runs to come in `[now, until)` at `everyMs`: on the grid of the latest earlier run (the
 * first grid point at or after now), or from now when no run is known.
 */
export function runsToCome(now: Date, until: Date, latestRun: Date | undefined, everyMs: number): Date[] {
  const t = now.getTime();
  let next = t;
  if (latestRun) {
    const k = Math.max(1, Math.ceil((t - latestRun.getTime()) / everyMs));
    next = latestRun.getTime() + k * everyMs;
  }
  const runs: Date[] = [];
  for (; next < until.getTime(); next += everyMs) runs.push(new Date(next));
  return runs;
}

/**
 * `plan --horizon`: the forecast's input from the account's history. Pure: the ledger's counted
 * requests (account-wide and per stream), the earlier syncs (newest first), the watermarks and
 * every enabled stream's settings in; the runs to come are assumed at the connector's cadence.
 */
export function forecastInput(input: {
  readonly now: Date;
  readonly horizonMs: number;
  readonly quota: number;
  /** Every enabled stream (the fair share is taken over all of them). */
  readonly streams: readonly StreamConfig[];
  readonly watermarks: ReadonlyMap<string, Date>;
  readonly history: QuotaHistory;
  /** Start times of the account's earlier syncs, newest first. */
  readonly previousRuns: readonly Date[];
}): { readonly input: ForecastInput; readonly cadence: Cadence } {
  const { now } = input;
  const cadence = assumedCadence(input.previousRuns);
  const until = new Date(now.getTime() + input.horizonMs);
  return {
    cadence,
    input: {
      now,
      quota: input.quota,
      runs: runsToCome(now, until, input.previousRuns[0], cadence.everyMs),
      spends: input.history.spends,
      previousRuns: input.previousRuns,
      streams: input.streams.map((s) => ({
        stream: s.schema.name,
        weight: s.weight,
        watermark: input.watermarks.get(s.schema.name),
        settleMs: s.settleMs,
        minIntervalMs: s.minIntervalMs,
        requests: input.history.byStream.get(s.schema.name)?.times ?? [],
      })),
    },
  };
}
