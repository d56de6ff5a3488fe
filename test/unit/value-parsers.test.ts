import { describe, expect, it } from 'vitest';
import { ValueError } from '../../src/errors.js';
import {
  isPlainDecimal,
  isPlainDecimalBytes,
  isPlainInteger,
  isPlainIntegerBytes,
  parseBoolean,
  parseInteger,
  parseNumber,
  parseTimestamp,
  plainDecimalValue,
  plainIntegerValue,
} from '../../src/parse/value-parsers.js';

const iso = (d: Date) => d.toISOString();

describe('parseTimestamp', () => {
  it('reads ISO 8601 with Z or an offset, whatever the export time zone', () => {
    expect(iso(parseTimestamp('2026-11-20T10:15:30Z', 'America/New_York'))).toBe('2026-11-20T10:15:30.000Z');
    expect(iso(parseTimestamp('2026-11-20T10:15:30.123+01:00', 'UTC'))).toBe('2026-11-20T09:15:30.123Z');
    expect(iso(parseTimestamp('2026-11-20T10:15:30-0530', 'UTC'))).toBe('2026-11-20T15:45:30.000Z');
    expect(iso(parseTimestamp('2026-11-20 10:15:30z', 'UTC'))).toBe('2026-11-20T10:15:30.000Z');
  });

  it('reads YYYY-MM-DD HH:mm[:ss[.SSS]] as wall-clock time in the export time zone', () => {
    expect(iso(parseTimestamp('2026-11-20 10:15', 'America/New_York'))).toBe('2026-11-20T15:15:00.000Z');
    expect(iso(parseTimestamp('2026-07-20 10:15:30', 'America/New_York'))).toBe('2026-07-20T14:15:30.000Z');
    expect(iso(parseTimestamp('2026-07-20 10:15:30.250', 'Asia/Kolkata'))).toBe('2026-07-20T04:45:30.250Z');
    expect(iso(parseTimestamp('2026-07-20T10:15:30', 'UTC'))).toBe('2026-07-20T10:15:30.000Z');
  });

  it('reads MM/DD/YYYY hh:mm[:ss] AM|PM as wall-clock time', () => {
    expect(iso(parseTimestamp('11/20/2026 03:04:05 PM', 'America/Chicago'))).toBe('2026-11-20T21:04:05.000Z');
    expect(iso(parseTimestamp('11/20/2026 12:00 AM', 'UTC'))).toBe('2026-11-20T00:00:00.000Z');
    expect(iso(parseTimestamp('1/2/2026 12:30 pm', 'UTC'))).toBe('2026-01-02T12:30:00.000Z');
  });

  it('reads a US date with a 24-hour time when there is no AM/PM', () => {
    expect(iso(parseTimestamp('11/20/2026 15:04', 'UTC'))).toBe('2026-11-20T15:04:00.000Z');
    expect(iso(parseTimestamp('11/20/2026', 'UTC'))).toBe('2026-11-20T00:00:00.000Z');
  });

  it('moves a wall-clock time that does not exist (spring forward) forward by the gap', () => {
    // 2026-03-08 02:30 does not exist in New York; it becomes 03:30 EDT (07:30Z).
    expect(iso(parseTimestamp('2026-03-08 02:30:00', 'America/New_York'))).toBe('2026-03-08T07:30:00.000Z');
    expect(iso(parseTimestamp('03/08/2026 02:30:00 AM', 'America/New_York'))).toBe(
      '2026-03-08T07:30:00.000Z',
    );
  });

  it('reads a wall-clock time that repeats (fall back) as its first occurrence', () => {
    // 2026-11-01 01:30 happens twice in New York: first in EDT (05:30Z), then in EST (06:30Z).
    expect(iso(parseTimestamp('2026-11-01 01:30:00', 'America/New_York'))).toBe('2026-11-01T05:30:00.000Z');
    expect(iso(parseTimestamp('2026-10-25 02:30:00', 'Europe/Berlin'))).toBe('2026-10-25T00:30:00.000Z');
    // The hours either side are unambiguous.
    expect(iso(parseTimestamp('2026-11-01 00:59:59', 'America/New_York'))).toBe('2026-11-01T04:59:59.000Z');
    expect(iso(parseTimestamp('2026-11-01 02:00:00', 'America/New_York'))).toBe('2026-11-01T07:00:00.000Z');
  });

  it('rejects what is not a date-time', () => {
    for (const bad of [
      'yesterday',
      '2026-02-30 10:00',
      '13/01/2026 10:00 AM',
      '2026-11-20 25:00',
      '11/20/2026 13:00 PM',
    ]) {
      expect(() => parseTimestamp(bad, 'UTC'), bad).toThrow(ValueError);
    }
  });
});

describe('parseBoolean', () => {
  it('accepts true/false, yes/no, 1/0, Y/N in any case', () => {
    for (const t of ['true', 'TRUE', 'Yes', 'y', '1', 'T']) expect(parseBoolean(t), t).toBe(true);
    for (const f of ['false', 'False', 'NO', 'n', '0', 'f']) expect(parseBoolean(f), f).toBe(false);
    expect(() => parseBoolean('maybe')).toThrow(ValueError);
  });
});

describe('parseNumber and parseInteger', () => {
  it('strips a % sign and thousands separators', () => {
    expect(parseNumber('12.5%')).toBe(12.5);
    expect(parseNumber('1,234.5')).toBe(1234.5);
    expect(parseNumber('-1,234,567')).toBe(-1234567);
    expect(parseNumber('.5')).toBe(0.5);
    expect(parseNumber('1e3')).toBe(1000);
    expect(parseNumber(' 42 ')).toBe(42);
  });

  it('refuses ambiguous or non-numeric text', () => {
    for (const bad of ['12,5', 'abc', '1.2.3', '--1', 'NaN', 'Infinity'])
      expect(() => parseNumber(bad), bad).toThrow(ValueError);
  });

  it('keeps integers exact up to 64 bits and refuses fractions', () => {
    expect(parseInteger('9,223,372,036,854,775,807')).toBe('9223372036854775807');
    expect(parseInteger('12.0')).toBe('12');
    expect(() => parseInteger('12.5')).toThrow(ValueError);
    expect(() => parseInteger('9223372036854775808')).toThrow(/out of range/);
  });
});

describe('fast paths agree with the general rules (shared vectors)', () => {
  // A leading space keeps a value off every fast path; the general rules trim it.
  const both = <T>(parse: (raw: string) => T, raw: string): [T | string, T | string] => {
    const run = (r: string) => {
      try {
        return parse(r);
      } catch (err) {
        return `error: ${(err as Error).message.replace(/" ?/g, '"').replace(/" /g, '"')}`;
      }
    };
    return [run(raw), run(` ${raw}`)];
  };
  const norm = (v: unknown) =>
    v instanceof Date ? v.toISOString() : typeof v === 'string' ? v.replace(/"\s+/, '"') : v;

  it.each([
    '0',
    '7',
    '-7',
    '007',
    '-0',
    '+5',
    '123456789012345',
    '1234567890123456',
    '9223372036854775807',
    '12.0',
    '1,234',
  ])('integer %s', (raw) => {
    const [fast, general] = both(parseInteger, raw);
    expect(norm(fast)).toEqual(norm(general));
  });

  it.each([
    '0',
    '1.5',
    '-1.5',
    '1234.56',
    '00.5',
    '1.',
    '.5',
    '-0.0',
    '123456789012.345',
    '12345678901234567',
    '3%',
  ])('number %s', (raw) => {
    const [fast, general] = both(parseNumber, raw);
    expect(norm(fast)).toEqual(norm(general));
  });

  const stamps = [
    '2026-11-14 00:00:01',
    '2026-11-14T23:59:59',
    '2024-02-29 10:00:00',
    '2026-02-29 10:00:00',
    '2026-13-01 00:00:00',
    '2026-11-01 01:30:00',
    '2026-11-01 01:30:59',
    '2026-03-08 02:30:00',
    '2026-03-08 02:30:45',
    '2026-03-29 02:30:00',
    '2026-10-25 02:30:30',
  ];
  const zones = ['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Kolkata'];
  it.each(zones.flatMap((z) => stamps.map((s) => [s, z])))('timestamp %s in %s', (raw, zone) => {
    const [fast, general] = both((r) => parseTimestamp(r, zone), raw);
    expect(norm(fast)).toEqual(norm(general));
  });

  it('resolves every second of a repeated or skipped minute like its first second', () => {
    // 01:30:59 on the New York fall-back night is the first (daylight) occurrence, 59 s on.
    expect(parseTimestamp('2026-11-01 01:30:00', 'America/New_York').toISOString()).toBe(
      '2026-11-01T05:30:00.000Z',
    );
    expect(parseTimestamp('2026-11-01 01:30:59', 'America/New_York').toISOString()).toBe(
      '2026-11-01T05:30:59.000Z',
    );
    // 02:30:45 on the spring-forward night does not exist: forward by the gap, to 03:30:45 EDT.
    expect(parseTimestamp('2026-03-08 02:30:45', 'America/New_York').toISOString()).toBe(
      '2026-03-08T07:30:45.000Z',
    );
  });
});

describe('byte-level readers agree with the string parsers (shared vectors)', () => {
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const digits = (n: number) => Array.from({ length: n }, () => String(Math.floor(rnd() * 10))).join('');
  const vectors: string[] = [
    '0',
    '-0',
    '0.0',
    '-0.0',
    '1.5',
    '999999999999999',
    '0.000000000000001',
    '123456789.012345',
  ];
  for (let i = 0; i < 20_000; i++) {
    const intPart = digits(1 + Math.floor(rnd() * 10));
    const frac = rnd() < 0.6 ? `.${digits(1 + Math.floor(rnd() * 8))}` : '';
    vectors.push(`${rnd() < 0.3 ? '-' : ''}${intPart}${frac}`);
  }

  it('plain decimals: the bytes give the same double as parseNumber', () => {
    let checked = 0;
    for (const s of vectors) {
      const b = Buffer.from(s);
      expect(isPlainDecimalBytes(b, 0, b.length), s).toBe(isPlainDecimal(s));
      if (!isPlainDecimal(s)) continue;
      expect(Object.is(plainDecimalValue(b, 0, b.length), parseNumber(s)), s).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(15_000);
  });

  it('plain integers: the bytes give the same value as parseInteger', () => {
    let checked = 0;
    for (const s of vectors) {
      const b = Buffer.from(s);
      expect(isPlainIntegerBytes(b, 0, b.length), s).toBe(isPlainInteger(s));
      if (!isPlainInteger(s)) continue;
      expect(String(plainIntegerValue(b, 0, b.length)), s).toBe(parseInteger(s));
      checked++;
    }
    expect(checked).toBeGreaterThan(4_000);
  });
});
