import { quotaWindowMs as dayMs } from '../ports/state-ports.js';
import { type ScheduledStream, schedule } from './scheduler.js';

const sampleMs = 10 * 60_000;
/** Earlier runs handed to the scheduler: more than the 8 gaps `expectedRunGapMs` reads. */
const keptRuns = 16;

/** A stream as the forecast starts from it. */
export interface ForecastStream {
  readonly stream: string;
  readonly weight: number;
  readonly watermark: Date | undefined;
  readonly settleMs: number;
  readonly minIntervalMs: number | undefined;
  /** Its counted requests so far (any order). */
  readonly requests: readonly Date[];
}

export interface ForecastInput {
  readonly now: Date;
  readonly quota: number;
  /** The runs to come, in order (a cron's next fire times). */
  readonly runs: readonly Date[];
  /** The account's counted requests so far (any order), as the vendor counts them. */
  readonly spends: readonly Date[];
  /** Earlier runs, newest first. */
  readonly previousRuns: readonly Date[];
  readonly streams: readonly ForecastStream[];
  /** How long a run waits for a slot about to free (default: as `sync` does, `slotWaitMs`). */
  readonly maxWaitMs?: number;
  /** Lags are measured from here on (a steady state after a first sync); default `now`. */
  readonly measureFrom?: Date;
}

export interface StreamForecast {
  readonly stream: string;
  /** When its requests will be sent. */
  readonly requests: readonly Date[];
  /** The largest and the mean lag (now minus watermark) over the forecast, sampled every 10 minutes. */
  readonly worstLagMs: number;
  readonly meanLagMs: number;
}

export interface Forecast {
  readonly streams: readonly StreamForecast[];
  /** Every request sent in the forecast, in order. */
  readonly spends: readonly Date[];
}

/**
 * Plays the scheduler forward over `runs` (`plan --horizon`, and the tests' 30-day bounds): at
 * each run it asks {@link schedule}, sends what is due when the vendor's rolling 24 hours have a
 * slot (waiting up to `maxWaitMs` for one about to free), and takes a request's window end (its
 * time minus the stream's settle) as the new watermark. Pure: no clock, no I/O.
 */
export function forecast(input: ForecastInput): Forecast {
  const { quota } = input;
  const weights = input.streams.map((s) => s.weight);
  const wm = new Map(input.streams.map((s) => [s.stream, s.watermark?.getTime()]));
  const reqs = new Map(input.streams.map((s) => [s.stream, s.requests.map((d) => d.getTime())]));
  const spends = input.spends.map((d) => d.getTime()).sort((a, b) => a - b);
  const previous = input.previousRuns.map((d) => d.getTime());
  const lags = new Map(input.streams.map((s) => [s.stream, { worst: 0, sum: 0, n: 0 }]));
  const origin = input.now.getTime();
  const measureFrom = input.measureFrom?.getTime() ?? origin;
  const sent: number[] = [];
  let sampled = origin;
  const sampleUntil = (until: number) => {
    for (; sampled < until; sampled += sampleMs) {
      if (sampled < measureFrom) continue;
      for (const s of input.streams) {
        const lag = sampled - (wm.get(s.stream) ?? origin);
        const l = lags.get(s.stream)!;
        l.worst = Math.max(l.worst, lag);
        l.sum += lag;
        l.n++;
      }
    }
  };
  for (const run of input.runs.map((d) => d.getTime())) {
    sampleUntil(run);
    let now = run;
    const decision = schedule({
      now: new Date(now),
      quota,
      weights,
      recentSpends: [...spends].reverse().map((t) => new Date(t)),
      previousRuns: previous.map((t) => new Date(t)),
      streams: input.streams.map((s): ScheduledStream => {
        const w = wm.get(s.stream);
        const mine = reqs.get(s.stream)!;
        return {
          stream: s.stream,
          weight: s.weight,
          watermark: w === undefined ? undefined : new Date(w),
          newDataMs: w === undefined ? Number.POSITIVE_INFINITY : now - s.settleMs - w,
          minIntervalMs: s.minIntervalMs,
          backlog: w === undefined,
          lastRequestAt: mine.length ? new Date(Math.max(...mine)) : undefined,
          recentRequests: mine.filter((t) => t > now - 7 * dayMs).length,
        };
      }),
    });
    previous.unshift(run);
    // The scheduler reads the latest few runs only (expectedRunGapMs): a long forecast stays linear.
    previous.length = Math.min(previous.length, keptRuns);
    for (const d of decision.streams) {
      if (!d.request) continue;
      const inWindow = spends.filter((t) => t > now - dayMs);
      if (inWindow.length >= quota) {
        const frees = inWindow[inWindow.length - quota]! + dayMs + 1;
        if (frees - now > (input.maxWaitMs ?? decision.slotWaitMs)) break;
        now = frees;
      }
      spends.push(now);
      sent.push(now);
      reqs.get(d.stream)!.push(now);
      const s = input.streams.find((x) => x.stream === d.stream)!;
      wm.set(d.stream, now - s.settleMs);
    }
  }
  sampleUntil(input.runs.length ? input.runs[input.runs.length - 1]!.getTime() + 1 : origin);
  return {
    spends: sent.map((t) => new Date(t)),
    streams: input.streams.map((s) => {
      const l = lags.get(s.stream)!;
      return {
        stream: s.stream,
        requests: reqs
          .get(s.stream)!
          .filter((t) => t >= origin)
          .map((t) => new Date(t)),
        worstLagMs: l.worst,
        meanLagMs: l.n ? l.sum / l.n : 0,
      };
    }),
  };
}
