import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load-config.js';
import { freshnessThresholds } from '../../src/plan/freshness-thresholds.js';

const hourMs = 3_600_000;
const account = {
  name: 'unit',
  region: 'na1',
  clientId: 'id',
  clientSecret: 'secret-value',
  accessKey: 'AK==',
  accessSecret: 'as-secret-value',
};
const destination = { type: 'postgres', url: 'postgres://u@h/db' };

function thresholds(config: Record<string, unknown>, runEveryMs: number) {
  const c = resolveConfig({ account, destination, ...config }, {}).accounts[0]!;
  return freshnessThresholds({ quota: c.quota.perDay, streams: c.streams, runEveryMs });
}

describe('freshness thresholds from the config (the scheduler played forward)', () => {
  it('gives four equal streams at quota 3 the 32 h worst lag of hourly runs: warn after 41 h, error after 73 h', () => {
    const t = thresholds({}, hourMs);
    expect(t.map((s) => s.stream)).toEqual(['copilot_kb', 'copilot_as', 'copilot_aq', 'autopilot_gr']);
    for (const s of t) {
      expect(s.expectedWorstLagMs / hourMs).toBeCloseTo(32.1, 1);
      expect(s.refreshIntervalMs).toBe(32 * hourMs);
      expect(s.marginMs).toBe(8 * hourMs);
      expect([s.warnAfterHours, s.errorAfterHours]).toEqual([41, 73]);
    }
  });

  it('gives daily runs the 48 h worst lag and a day of margin: 73 h and 105 h', () => {
    for (const s of thresholds({}, 24 * hourMs)) {
      expect(s.expectedWorstLagMs / hourMs).toBeCloseTo(48.1, 1);
      expect([s.warnAfterHours, s.errorAfterHours]).toEqual([73, 105]);
    }
  });

  it('follows the quota, the streams enabled and their weights', () => {
    const two = thresholds({ streams: { copilot_kb: {}, copilot_as: {} } }, hourMs);
    expect(two.map((s) => s.refreshIntervalMs / hourMs)).toEqual([16, 16]);
    const more = thresholds({ account: { ...account, exportsPer24h: 6 } }, hourMs);
    expect(more[0]!.warnAfterHours).toBeLessThan(41);
    const weighted = thresholds(
      { streams: { copilot_kb: { weight: 3 }, copilot_as: {}, copilot_aq: {}, autopilot_gr: {} } },
      hourMs,
    );
    const [kb, as] = weighted;
    expect(kb!.warnAfterHours).toBeLessThan(as!.warnAfterHours);
  });

  it('warns only past the worst lag the schedule gives, and errs later still', () => {
    for (const every of [0.25, 1, 8, 24].map((h) => h * hourMs)) {
      for (const s of thresholds({}, every)) {
        expect(s.warnAfterHours * hourMs).toBeGreaterThan(s.expectedWorstLagMs + s.marginMs - hourMs);
        expect(s.warnAfterHours * hourMs).toBeGreaterThanOrEqual(s.expectedWorstLagMs + s.marginMs);
        expect(s.errorAfterHours).toBeGreaterThan(s.warnAfterHours);
      }
    }
  });
});
