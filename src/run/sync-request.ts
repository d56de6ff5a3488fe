import { AuthError, type QuotaExhaustedError } from '../errors.js';
import { requestExport } from '../export/export-request.js';
import type { Window } from '../model/window.js';
import { maxSlotWaitMs } from '../plan/scheduler.js';
import { endedByAcceptance, streamFailureReason } from '../plan/stream-backoff.js';
import type { ExportRecord } from '../ports/export-record.js';
import { realSleep, sleepUnlessAborted } from '../retry/retry.js';
import { eachLimited } from './each-limited.js';
import type { RunPlan } from './sync-plan-run.js';
import type { SyncRun } from './sync-run.js';
import { scheduleRun } from './sync-schedule.js';

/**
 * Which streams spend the quota now, then reserve, request and drive, in that order, until the
 * quota or the plan runs out. An explicit window is a deliberate request, served stalest first
 * when a slot is free; otherwise the scheduler decides (pacing, fair share, worthwhile windows
 * only), and decides again for the streams it passed over when a stream the API refuses could
 * not use its slot. A stream the API refuses is backed off on its own and its slot offered to
 * the next stream at once. Returns when the next quota slot frees, when a refusal said so.
 */
export async function requestDue(
  run: SyncRun,
  { queue, watermarks, planned }: RunPlan,
): Promise<Date | null> {
  const { deps, report, options, signal } = run;
  const { state, config, clock, log } = deps;
  const order: string[] = options.window ? planned.map(({ stream }) => stream.schema.name) : [];
  let waitForSlotMs = maxSlotWaitMs;
  // The windows of the streams the scheduler passed over, kept for a slot offered again.
  const passedOver = new Map<string, Window[]>();
  const offer = async (): Promise<void> => {
    const candidates = new Map(
      [...queue, ...passedOver].filter(([n, ws]) => ws.length > 0 && report.open(n) && !order.includes(n)),
    );
    if (candidates.size === 0) return;
    const decision = await scheduleRun({
      state,
      config,
      now: clock.now(),
      queue: candidates,
      watermarks,
      runId: options.runId,
    });
    waitForSlotMs = decision.slotWaitMs;
    for (const d of decision.streams) {
      if (d.request) {
        order.push(d.stream);
        if (passedOver.has(d.stream)) {
          queue.set(d.stream, passedOver.get(d.stream)!);
          passedOver.delete(d.stream);
          report.due(d.stream);
        }
      } else if (!passedOver.has(d.stream)) {
        report.notDue(d.stream, d.dueAt, d.reason ?? 'not its turn');
        passedOver.set(d.stream, queue.get(d.stream) ?? []);
        queue.set(d.stream, []);
      }
    }
  };
  if (!options.window) await offer();
  const due = (n: string) => order.includes(n) && (queue.get(n)?.length ?? 0) > 0 && report.open(n);

  let quotaStop: QuotaExhaustedError | undefined;
  let unreachable: string | undefined;
  let nextSlotAt: Date | null = null;
  const sleep = deps.sleep ?? realSleep;
  for (;;) {
    const dueNow = order.filter(due);
    if (dueNow.length === 0 || quotaStop || unreachable || signal?.aborted) break;
    const inFlight: ExportRecord[] = [];
    let refused = false;
    for (const name of dueNow) {
      if (options.maxExports !== undefined && report.exportsRequested >= options.maxExports) {
        report.defer(name, `--max-exports ${options.maxExports} reached`);
        continue;
      }
      if (quotaStop) {
        report.defer(name, quotaStop.message);
        continue;
      }
      if (unreachable) {
        report.fail(name, unreachable);
        continue;
      }
      const window = queue.get(name)!.shift()!;
      // An incremental window was planned from the watermark: a reset since then makes it void.
      const plannedFrom = options.window ? undefined : watermarks.get(name);
      const request = () => requestExport(deps, run.byName.get(name)!, window, signal, plannedFrom);
      let requested = await request();
      // A slot that frees within a few minutes is waited for rather than left to the next run;
      // after the API's own refusal, only a short wait (its probe is not waited out).
      for (;;) {
        const waitMs =
          requested.kind === 'quota' && requested.error.nextSlotAt
            ? requested.error.nextSlotAt.getTime() - clock.now().getTime() + 1
            : Number.POSITIVE_INFINITY;
        const longest = requested.kind === 'quota' && requested.vendorBlock ? maxSlotWaitMs : waitForSlotMs;
        if (options.noWait || signal?.aborted || waitMs > longest) break;
        log.info('waiting for a quota slot about to free', { stream: name, waitMs });
        await sleepUnlessAborted(sleep, Math.max(0, waitMs), signal);
        if (signal?.aborted) break;
        requested = await request();
      }
      if (requested.kind === 'stopped') {
        queue.get(name)!.unshift(window);
        report.defer(name, run.stopNote());
      } else if (requested.kind === 'quota') {
        quotaStop = requested.error;
        nextSlotAt = requested.error.nextSlotAt;
        queue.get(name)!.unshift(window);
        report.defer(name, requested.error.message);
      } else if (requested.kind === 'busy') {
        report.defer(name, 'another process has an unfinished export for this stream');
      } else if (requested.kind === 'moved') {
        queue.set(name, []);
        report.defer(name, requested.note);
      } else if (requested.kind === 'failed') {
        // The API cannot be reached at all: the other streams are not tried this run.
        if (requested.notSent) unreachable = requested.error;
        // Refused with nothing spent: the slot goes to the next stream at once.
        else if (requested.record && !requested.record.countsQuota) refused = true;
        const reason = streamFailureReason(requested.cause, {
          explicitWindow: options.window !== undefined,
          otherStreamsWork: requested.cause instanceof AuthError && (await run.otherStreamsWork(name)),
        });
        if (reason) {
          // The API refuses this stream: it waits on its own. The run fails for it when the
          // backoff begins only.
          const [backoff, note] = await run.backOff(name, reason, requested.error);
          report.backOff(
            name,
            backoff,
            note,
            backoff.failures === 1 || options.window !== undefined,
            requested.record,
          );
        } else report.fail(name, requested.error, requested.record);
      } else {
        report.exportsRequested++;
        inFlight.push(requested.record);
        await run.endBackoff(name, endedByAcceptance);
      }
    }
    if (refused && !options.window && !quotaStop && !unreachable) await offer();
    await eachLimited(inFlight, run.parallel, (r) => run.drive(r));
    if (inFlight.length === 0 && !refused) break;
  }
  report.deferQueued(queue);
  return nextSlotAt;
}
