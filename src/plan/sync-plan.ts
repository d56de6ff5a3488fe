import { ConfigError } from '../errors.js';
import type { Window } from '../model/window.js';
import type { AccountRunSettings, StreamConfig } from '../ports/run-settings.js';
import { type HorizonRule, planExplicit, planStream, type StreamPlan, stalestFirst } from './planner.js';

/**
 * The streams a run works on: every enabled stream, or the ones named (`--stream`). A name that
 * is not an enabled stream is a usage error naming the enabled ones.
 */
export function selectStreams(
  config: AccountRunSettings,
  names: readonly string[] | undefined,
): StreamConfig[] {
  if (!names?.length) return [...config.streams];
  const enabled = config.streams.map((s) => s.schema.name);
  const unknown = names.filter((n) => !enabled.includes(n));
  if (unknown.length) {
    throw new ConfigError(
      `--stream ${unknown.join(', ')}: not an enabled stream; enabled: ${enabled.join(', ') || '(none)'}`,
    );
  }
  return config.streams.filter((s) => names.includes(s.schema.name));
}

/** One stream's plan, with the stream it is for. */
export interface PlannedStream {
  readonly stream: StreamConfig;
  readonly plan: StreamPlan;
}

/**
 * Plans every stream's windows at `now`, stalest stream first: the explicit `window` when one
 * is given (an orchestrator's data interval), else each stream's incremental window from its
 * watermark. Pure; `sync` and `plan` share it, so `plan` shows what `sync` would request.
 */
export function planStreams(
  streams: readonly StreamConfig[],
  watermarks: ReadonlyMap<string, Date>,
  now: Date,
  rule: HorizonRule,
  window?: Window,
): PlannedStream[] {
  const ordered = stalestFirst(
    streams.map((s) => ({ stream: s.schema.name, watermark: watermarks.get(s.schema.name), config: s })),
  );
  return ordered.map(({ stream: name, watermark, config: s }) => ({
    stream: s,
    plan: window
      ? planExplicit(name, window, s.maxWindowDays, now, rule)
      : planStream(
          {
            stream: name,
            watermark,
            start: s.start,
            lookbackMs: s.lookbackMs,
            settleMs: s.settleMs,
            maxWindowDays: s.maxWindowDays,
          },
          now,
          rule,
        ),
  }));
}
