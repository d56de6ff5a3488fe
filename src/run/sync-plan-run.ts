import type { Window } from '../model/window.js';
import { backoffsInForce, streamBackoffNote } from '../plan/stream-backoff.js';
import { type PlannedStream, planStreams } from '../plan/sync-plan.js';
import { assertClockAgrees } from './clock-check.js';
import type { SyncRun } from './sync-run.js';

/** What the plan phase leaves for the request phase. */
export interface RunPlan {
  /** Each planned stream's windows still to request, in order. */
  readonly queue: Map<string, Window[]>;
  /** The account's watermarks, as moved by this plan. */
  readonly watermarks: Map<string, Date>;
  readonly planned: readonly PlannedStream[];
}

/**
 * Streams the API refuses, or whose exports fail at the vendor, wait on their own: an
 * incremental sync leaves them out; an explicit window (a deliberate request) fails for them. A
 * stream the config no longer enables (as a backoff's note advises) has no backoff any more.
 */
export async function readBackoffs(run: SyncRun): Promise<void> {
  const { deps, report, options } = run;
  const { state, config } = deps;
  run.backoffs = await state.backoffs.byStream(run.account);
  run.backoffsRead = true;
  const disabled = [...run.backoffs.keys()].filter((n) => !config.streams.some((s) => s.schema.name === n));
  if (disabled.length)
    for (const n of await state.backoffs.clear(run.account, disabled)) run.backoffs.delete(n);
  for (const [name, backoff] of backoffsInForce(run.streams, run.backoffs, run.now())) {
    if (!report.open(name)) continue;
    const note = streamBackoffNote(backoff, run.byName.get(name)!);
    if (options.window) report.fail(name, `not requested: ${note}`);
    else report.backOff(name, backoff, note, false);
  }
}

/**
 * Plans every stream that is free to take new work: its windows, its gaps (recorded, once the
 * vendor's clock agrees with ours), a watermark moved over what the 4-month rule skipped. An
 * explicit window already loaded is not requested again (an orchestrator's rerun).
 */
export async function planRun(run: SyncRun): Promise<RunPlan> {
  const { deps, report, options } = run;
  const { state, config, log } = deps;
  const account = run.account;
  const watermarks = await state.watermarks.byStream(account);
  const planned = planStreams(
    run.streams.filter((s) => report.open(s.schema.name)),
    watermarks,
    run.now(),
    config.horizon,
    options.window,
  );
  // Nothing is recorded or requested by a clock the vendor disagrees with.
  const clockChecked =
    !planned.some(({ plan }) => plan.windows.length || plan.gaps.length) ||
    (await assertClockAgrees(deps.client, log, run.now()));
  const queue = new Map<string, Window[]>();
  for (const { stream, plan } of planned) {
    const name = stream.schema.name;
    for (const g of clockChecked ? plan.gaps : []) {
      await state.watermarks.recordGap(account, name, g.start, g.end, g.reason, run.now());
      report.gap(name, g);
      log.warn('gap recorded', { stream: name, start: g.start, end: g.end, reason: g.reason });
    }
    if (plan.moveWatermarkTo && clockChecked) {
      await state.watermarks.set(account, name, plan.moveWatermarkTo, run.now());
      watermarks.set(name, plan.moveWatermarkTo);
    }
    if (plan.note) report.note(name, plan.note);
    const windows: Window[] = [];
    for (const w of plan.windows) {
      const prior = options.window ? await state.exports.loadedFor(account, name, w) : undefined;
      if (prior) report.alreadyLoaded(name, prior);
      else windows.push(w);
    }
    queue.set(name, windows);
    if (!clockChecked && windows.length) {
      // No request on a clock the vendor has not confirmed (a clock days fast would move the
      // watermark into the future); without a token nothing could be sent anyway.
      report.fail(
        name,
        "not requested, no quota spent: the vendor's clock could not be read (the token endpoint did not answer); run again",
      );
      queue.set(name, []);
    }
  }
  return { queue, watermarks, planned };
}
