import { describe, expect, it } from 'vitest';
import { type PollCheck, pollUntil } from '../../src/retry/poll.js';
import {
  again,
  backoffDelay,
  done,
  parseRetryAfter,
  sleepUnlessAborted,
  withRetry,
} from '../../src/retry/retry.js';

const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000, jitter: false };

describe('withRetry', () => {
  it('waits the backoff between attempts and returns the first done', async () => {
    const waits: number[] = [];
    const result = await withRetry(
      policy,
      async (n) => (n < 3 ? again(() => 'gave up') : done(`ok at ${n}`)),
      { sleep: async (ms) => void waits.push(ms) },
    );
    expect(result).toBe('ok at 3');
    expect(waits).toEqual([100, 200]);
  });

  it('honours Retry-After up to its cap, and ends with otherwise() when attempts run out', async () => {
    const waits: number[] = [];
    const result = await withRetry(policy, async () => again(() => 'gave up', 60_000), {
      sleep: async (ms) => void waits.push(ms),
    });
    expect(result).toBe('gave up');
    expect(waits).toEqual([5_000, 5_000, 5_000]);
  });

  it('never retries a throw: which failures a retry can cure is the caller’s decision', async () => {
    let calls = 0;
    await expect(
      withRetry(policy, async () => {
        calls++;
        throw new Error('final');
      }),
    ).rejects.toThrow('final');
    expect(calls).toBe(1);
  });

  it('caps the exponential backoff and reads Retry-After as seconds or a date', () => {
    expect(backoffDelay(policy, 10)).toBe(1_000);
    const jittered = backoffDelay({ ...policy, jitter: true }, 3);
    expect(jittered).toBeGreaterThanOrEqual(200);
    expect(jittered).toBeLessThanOrEqual(400);
    expect(parseRetryAfter('2')).toBe(2_000);
    expect(parseRetryAfter('Sat, 28 Nov 2026 10:00:05 GMT', Date.parse('2026-11-28T10:00:00Z'))).toBe(5_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('pollUntil', () => {
  it('grows the interval to its cap and stops before a wait that would end past the budget', async () => {
    let clock = 0;
    const waits: number[] = [];
    const checks: number[] = [];
    const result = await pollUntil(
      { intervalMs: 100, maxIntervalMs: 300, factor: 2, budgetMs: 1_000 },
      async (poll): Promise<PollCheck<string, string>> => {
        checks.push(poll);
        return { kind: 'pending', pending: `pending ${poll}` };
      },
      (last) => `budget spent after ${last}`,
      {
        now: () => clock,
        sleep: async (ms) => {
          waits.push(ms);
          clock += ms;
        },
      },
    );
    expect(waits).toEqual([100, 200, 300, 300]);
    expect(result).toBe('budget spent after pending 5');
    expect(checks).toEqual([1, 2, 3, 4, 5]);
  });

  it('returns the value of the first done check', async () => {
    const result = await pollUntil(
      { intervalMs: 1, maxIntervalMs: 1, factor: 1, budgetMs: 1_000 },
      async (poll): Promise<PollCheck<number, null>> =>
        poll === 3 ? { kind: 'done', value: poll } : { kind: 'pending', pending: null },
      () => -1,
      { sleep: async () => {} },
    );
    expect(result).toBe(3);
  });
});

describe('waits a stop signal ends', () => {
  it('ends a wait when the signal aborts, and a poll returns its budget-spent value', async () => {
    const stop = new AbortController();
    let release: () => void = () => {};
    const never = () => new Promise<void>((r) => (release = r));
    const waiting = sleepUnlessAborted(never, 60_000, stop.signal);
    stop.abort('SIGTERM');
    await expect(waiting).resolves.toBeUndefined();
    release();

    const polled = await pollUntil(
      { intervalMs: 1_000, maxIntervalMs: 1_000, factor: 1, budgetMs: 60_000 },
      async (): Promise<PollCheck<string, string>> => ({ kind: 'pending', pending: 'Pending' }),
      (last) => `stopped while ${last}`,
      { sleep: never, signal: stop.signal },
    );
    expect(polled).toBe('stopped while Pending');
  });
});
