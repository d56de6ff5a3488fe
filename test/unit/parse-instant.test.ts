import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInstant } from '../../src/cli/sync-command.js';
import { ConfigError } from '../../src/errors.js';

describe('parseInstant (--start, --end, --to)', () => {
  const tz = process.env.TZ;
  beforeAll(() => {
    // Node reads TZ again when it changes: a host far from UTC.
    process.env.TZ = 'America/New_York';
  });
  afterAll(() => {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  });

  it('reads a date-time without an offset in UTC, not in the host time zone', () => {
    expect(new Date('2026-11-01T05:00').toISOString()).toBe('2026-11-01T10:00:00.000Z');
    expect(parseInstant('start', '2026-11-01T05:00').toISOString()).toBe('2026-11-01T05:00:00.000Z');
    expect(parseInstant('start', '2026-11-01T05:00:00').toISOString()).toBe('2026-11-01T05:00:00.000Z');
    expect(parseInstant('start', '2026-11-01 05:00:00.250').toISOString()).toBe('2026-11-01T05:00:00.250Z');
    expect(parseInstant('start', '2026-11-01').toISOString()).toBe('2026-11-01T00:00:00.000Z');
  });

  it('keeps an explicit Z or offset', () => {
    expect(parseInstant('end', '2026-11-01T05:00:00Z').toISOString()).toBe('2026-11-01T05:00:00.000Z');
    expect(parseInstant('end', '2026-11-01T05:00:00-05:00').toISOString()).toBe('2026-11-01T10:00:00.000Z');
    expect(parseInstant('end', '2026-11-01T05:30:00+0530').toISOString()).toBe('2026-11-01T00:00:00.000Z');
  });

  it('refuses what is not ISO 8601 (which Date would read in the host time zone)', () => {
    expect(() => parseInstant('start', 'Nov 1 2026')).toThrow(ConfigError);
    expect(() => parseInstant('start', '2026-11-01T25:00')).toThrow(
      /--start "2026-11-01T25:00" is not a date/,
    );
  });
});
