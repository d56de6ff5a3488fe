import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInstant } from '../../src/cli/cli-command.js';
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

  it('refuses a date or time the calendar does not have, where Date would roll it over', () => {
    expect(new Date('2026-02-30T00:00:00Z').toISOString()).toBe('2026-03-02T00:00:00.000Z');
    for (const [value, problem] of [
      ['2026-02-30', 'February 2026 has days 1 to 28, not 30'],
      ['2028-02-30T00:00:00Z', 'February 2028 has days 1 to 29, not 30'],
      ['2026-04-31T10:00', 'April 2026 has days 1 to 30, not 31'],
      ['2026-13-01', 'there is no month 13'],
      ['2026-00-10', 'there is no month 0'],
      ['2026-01-00', 'January 2026 has days 1 to 31, not 0'],
      ['2026-11-01T24:61', '24:61 is not a time of day'],
      ['2026-11-01T10:60:00Z', '10:60:00 is not a time of day'],
      ['2026-11-01T10:00:60Z', '10:00:60 is not a time of day'],
      ['2026-11-01T24:00:01Z', '24:00:01 is not a time of day'],
      ['2026-11-01T10:00:00+05:75', '+05:75 is not a UTC offset'],
    ])
      expect(() => parseInstant('end', value!), value).toThrow(`--end "${value}" is not a date: ${problem}`);
  });

  it('takes February 29th of a leap year and 24:00, the end of a day', () => {
    expect(parseInstant('to', '2028-02-29').toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(parseInstant('to', '2026-12-31T23:59:59.999Z').toISOString()).toBe('2026-12-31T23:59:59.999Z');
    expect(parseInstant('end', '2026-11-01T24:00').toISOString()).toBe('2026-11-02T00:00:00.000Z');
  });
});
