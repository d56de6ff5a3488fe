import { setTimeout as timersSleep } from 'node:timers/promises';

/** Waits `ms` milliseconds. Injected wherever a retry or a poll waits, so that tests need not. */
export type Sleep = (ms: number) => Promise<void>;

/** The real wait (`timers/promises`). */
export const realSleep: Sleep = async (ms) => {
  await timersSleep(ms);
};

/**
 * Waits `ms` with `sleep`, or less: until `signal` aborts (SIGTERM while a sync waits). The
 * listener is removed when the wait ends, so repeated waits leave none behind.
 */
export async function sleepUnlessAborted(
  sleep: Sleep,
  ms: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (!signal) return sleep(ms);
  if (signal.aborted) return;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<void>((resolve) => {
    onAbort = () => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([sleep(ms), aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** Bounded exponential backoff, with full jitter unless `jitter` is false, honouring Retry-After. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A Retry-After longer than this is cut to it. */
  readonly maxRetryAfterMs: number;
  /** Half the delay at random (default), or exactly `baseDelayMs * 2^(attempt-1)` capped. */
  readonly jitter?: boolean;
}

/**
 * The HTTP retry policy of the CXone client and token endpoint, the one place its constants
 * live. `account.httpMaxAttempts`, `httpRetryBaseMs` and `httpMaxRetryAfterSeconds` override it.
 */
export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 120_000,
};

/** Parses Retry-After (seconds or an HTTP date) into milliseconds from now. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The wait after failed attempt number `attempt` (1-based): Retry-After if given, else backoff. */
export function backoffDelay(policy: RetryPolicy, attempt: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxRetryAfterMs);
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  if (policy.jitter === false) return cap;
  return Math.round(cap / 2 + Math.random() * (cap / 2));
}

/** What one attempt came to: a result, or a failure another attempt may cure. */
export type Attempt<T> =
  | { readonly kind: 'done'; readonly value: T }
  | {
      readonly kind: 'again';
      /** What the call comes to when no attempt is left: a value, or a throw. */
      readonly otherwise: () => T;
      /** The server's Retry-After, in milliseconds from now. */
      readonly retryAfterMs?: number | undefined;
      /** Called before the wait (to log it). */
      readonly onWait?: ((waitMs: number) => void) | undefined;
    };

export const done = <T>(value: T): Attempt<T> => ({ kind: 'done', value });

export const again = <T>(
  otherwise: () => T,
  retryAfterMs?: number,
  onWait?: (waitMs: number) => void,
): Attempt<T> => ({ kind: 'again', otherwise, retryAfterMs, onWait });

export interface RetryOptions {
  readonly sleep?: Sleep;
}

/**
 * Runs `attempt` (numbered from 1) until it is done or `policy.maxAttempts` are spent, waiting
 * `backoffDelay` between attempts. A throw from `attempt` is final: only an `again` is retried,
 * so which failures a retry can cure is decided by the caller, where it is visible.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<Attempt<T>>,
  options: RetryOptions = {},
): Promise<T> {
  const sleep = options.sleep ?? realSleep;
  for (let n = 1; ; n++) {
    const outcome = await attempt(n);
    if (outcome.kind === 'done') return outcome.value;
    if (n >= policy.maxAttempts) return outcome.otherwise();
    const waitMs = backoffDelay(policy, n, outcome.retryAfterMs);
    outcome.onWait?.(waitMs);
    await sleep(waitMs);
  }
}
