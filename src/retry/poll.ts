import { realSleep, type Sleep, sleepUnlessAborted } from './retry.js';

/** How often to poll: a first interval growing by `factor` up to `maxIntervalMs`, within a budget. */
export interface PollSchedule {
  readonly intervalMs: number;
  readonly maxIntervalMs: number;
  readonly factor: number;
  /** No wait is begun that would end past this, counted from the first check. */
  readonly budgetMs: number;
}

/** What one check found: the end of the poll, or something still under way. */
export type PollCheck<T, P> =
  | { readonly kind: 'done'; readonly value: T }
  | { readonly kind: 'pending'; readonly pending: P };

export interface PollOptions<P> {
  readonly sleep?: Sleep;
  /** Milliseconds since an epoch, for the budget (default `Date.now`). */
  readonly now?: () => number;
  /** Called before each wait, with what the check found (to log it). */
  readonly beforeWait?: (pending: P, waitMs: number, poll: number) => void;
  /** Stops polling (as when the budget is spent) once aborted: no wait is begun, one under way ends. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Checks (polls numbered from 1) until a check is done; when the next wait would end past the
 * budget, returns `onBudgetSpent` of the last pending state instead.
 */
export async function pollUntil<T, P>(
  schedule: PollSchedule,
  check: (poll: number) => Promise<PollCheck<T, P>>,
  onBudgetSpent: (pending: P) => T | Promise<T>,
  options: PollOptions<P> = {},
): Promise<T> {
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? Date.now;
  const started = now();
  let interval = schedule.intervalMs;
  for (let poll = 1; ; poll++) {
    const result = await check(poll);
    if (result.kind === 'done') return result.value;
    if (options.signal?.aborted || now() - started + interval > schedule.budgetMs)
      return onBudgetSpent(result.pending);
    options.beforeWait?.(result.pending, interval, poll);
    await sleepUnlessAborted(sleep, interval, options.signal);
    if (options.signal?.aborted) return onBudgetSpent(result.pending);
    interval = Math.min(schedule.maxIntervalMs, Math.round(interval * schedule.factor));
  }
}
