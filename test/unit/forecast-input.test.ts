import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load-config.js';
import { forecast } from '../../src/plan/forecast.js';
import { assumedCadence, forecastInput, runsToCome } from '../../src/plan/forecast-input.js';

/** The config's one account, resolved. */
const resolveAccount = (...args: Parameters<typeof resolveConfig>) => resolveConfig(...args).accounts[0]!;

const h = 3_600_000;
const day = 24 * h;
const t0 = Date.parse('2026-11-28T12:00:00Z');
const at = (ms: number) => new Date(t0 + ms);

const config = resolveAccount(
  {
    account: {
      authUrl: 'https://cxone.niceincontact.com/auth/token',
      region: 'na1',
      clientId: 'id',
      clientSecret: 'secret',
      accessKey: 'AK==',
      accessSecret: 'as-secret-value',
    },
    destination: { type: 'postgres', url: 'postgres://u@h/db' },
    streams: { copilot_kb: { weight: 2, minInterval: '6h', settle: '30m' }, copilot_as: {} },
  },
  {},
);

describe('forecast input (plan --horizon)', () => {
  it('assumes the cadence syncs have run at (upper quartile of the gaps), hourly when too few are known', () => {
    expect(assumedCadence([])).toEqual({ everyMs: h, source: 'default', fromRuns: 0 });
    expect(assumedCadence([at(0), at(-day)])).toMatchObject({ everyMs: h, source: 'default' });
    const daily = [at(0), at(-day), at(-2 * day), at(-3 * day)];
    expect(assumedCadence(daily)).toEqual({ everyMs: day, source: 'recent runs', fromRuns: 4 });
    // Twice a day by hand (gaps of 8 and 16 h): the longer gap, as the scheduler expects it.
    const byHand = [at(0), at(-8 * h), at(-day), at(-32 * h), at(-2 * day)];
    expect(assumedCadence(byHand).everyMs).toBe(16 * h);
    // Syncs run in a row by hand are not taken as a cadence of seconds.
    expect(assumedCadence([at(0), at(-2_000), at(-4_000)]).everyMs).toBe(5 * 60_000);
  });

  it('puts the runs to come on the grid of the latest run, or from now when none is known', () => {
    expect(runsToCome(at(0), at(3 * h), undefined, h)).toEqual([at(0), at(h), at(2 * h)]);
    expect(runsToCome(at(0), at(3 * h), at(-20 * 60_000), h)).toEqual([
      at(40 * 60_000),
      at(100 * 60_000),
      at(160 * 60_000),
    ]);
    // A run long ago: the grid goes on from it.
    expect(runsToCome(at(0), at(day), at(-30 * h), 8 * h)[0]).toEqual(at(2 * h));
  });

  it('takes the history, watermarks and every enabled stream settings into the forecast', () => {
    const kbSpends = [at(-2 * h), at(-30 * h)];
    const { input, cadence } = forecastInput({
      now: at(0),
      horizonMs: 6 * day,
      quota: 3,
      streams: config.streams,
      watermarks: new Map([['copilot_kb', at(-2.5 * h)]]),
      history: {
        spends: [at(-2 * h), at(-10 * h), at(-30 * h)],
        byStream: new Map([
          ['copilot_kb', { last: kbSpends[0]!, count: 2, times: kbSpends, askedUntil: at(-2.5 * h) }],
          ['copilot_as', { last: at(-10 * h), count: 1, times: [at(-10 * h)], askedUntil: at(-10.25 * h) }],
        ]),
      },
      previousRuns: [at(-h), at(-2 * h), at(-3 * h)],
    });
    expect(cadence).toMatchObject({ everyMs: h, source: 'recent runs' });
    expect(input.runs).toHaveLength(144);
    expect(input.runs[0]).toEqual(at(0));
    expect(input.spends).toHaveLength(3);
    expect(input.streams).toEqual([
      {
        stream: 'copilot_kb',
        weight: 2,
        watermark: at(-2.5 * h),
        settleMs: 30 * 60_000,
        minIntervalMs: 6 * h,
        requests: kbSpends,
      },
      {
        stream: 'copilot_as',
        weight: 1,
        watermark: undefined,
        settleMs: 15 * 60_000,
        minIntervalMs: undefined,
        requests: [at(-10 * h)],
      },
    ]);
    // Played forward: the never-synced stream first, the one of weight 2 about twice as often
    // (18 slots in 6 days), and
    // never more than 3 in a rolling 24 hours with the history.
    const f = forecast(input);
    const [kb, as] = f.streams;
    expect(as!.requests[0]!.getTime()).toBeLessThan(kb!.requests[0]!.getTime());
    expect(kb!.requests.length).toBeGreaterThanOrEqual(1.4 * as!.requests.length);
    const all = [...input.spends, ...f.spends].map((d) => d.getTime()).sort((a, b) => a - b);
    for (const t of all) expect(all.filter((x) => x > t - day && x <= t).length).toBeLessThanOrEqual(3);
  });
});
