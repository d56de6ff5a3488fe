import { DateTime, IANAZone } from 'luxon';
import { ValueError } from '../errors.js';
import type { ColumnType } from '../model/stream-schema.js';

/**
 * Value parsing (docs/contract.md, "Headers and values"). Each parser takes the raw cell (never empty: an empty cell is
 * NULL before it gets here) and returns the typed value or throws a `ValueError` whose message
 * becomes the rejected row's reason.
 *
 * Wall-clock times (no offset in the cell) are read in the export's IANA time zone with the
 * "compatible" rule of RFC 5545 and Temporal: a time that repeats when clocks go back is the
 * first occurrence (daylight time); a time that does not exist when clocks go forward is moved
 * forward by the gap (02:30 becomes 03:30 daylight time).
 */

/** Typed value of a cell: Date for timestamps, string for integers (bigint-safe), number, boolean, text. */
export type CellValue = Date | string | number | boolean | null;

const isoWithZone =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)$/i;
const isoLocal = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?$/;
const usLocal =
  /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:\s*([AaPp])\.?[Mm]\.?)?)?$/;

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

function fraction(digits: string | undefined): number {
  return digits ? Math.floor(Number(`0.${digits}`) * 1000) : 0;
}

const daysInMonth = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function checkRanges(w: WallClock, raw: string): void {
  if (
    w.month < 1 ||
    w.month > 12 ||
    w.day < 1 ||
    w.day > 31 ||
    w.hour > 23 ||
    w.minute > 59 ||
    w.second > 59
  ) {
    throw new ValueError(`not a valid date-time: ${JSON.stringify(raw)}`);
  }
  const dim =
    w.month === 2
      ? (w.year % 4 === 0 && w.year % 100 !== 0) || w.year % 400 === 0
        ? 29
        : 28
      : daysInMonth[w.month - 1]!;
  if (w.day > dim) throw new ValueError(`not a valid date-time: ${JSON.stringify(raw)} (day out of range)`);
}

const zoneCache = new Map<string, IANAZone>();
/** Validates an IANA zone name; returns undefined when it is unknown. */
export function ianaZone(name: string): IANAZone | undefined {
  let z = zoneCache.get(name);
  if (!z) {
    z = IANAZone.create(name);
    if (!z.isValid) return undefined;
    zoneCache.set(name, z);
  }
  return z;
}

/**
 * Instants of wall-clock minutes already resolved, per zone: offsets change on minute
 * boundaries, so the seconds of a minute add linearly. Bounded; cleared when full.
 */
const minuteCache = new Map<string, Map<number, number>>();
const minuteCacheMax = 200_000;

/** Converts a wall-clock time in `zone` to an instant, with the compatible DST rule. */
export function wallClockToInstant(w: WallClock, zone: string): Date {
  const utcGuess = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.millisecond);
  if (zone === 'UTC' || zone === 'Etc/UTC') return new Date(utcGuess);
  const withinMinute = w.second * 1000 + w.millisecond;
  const minuteKey = utcGuess - withinMinute;
  let cache = minuteCache.get(zone);
  if (!cache) {
    cache = new Map();
    minuteCache.set(zone, cache);
  }
  const known = cache.get(minuteKey);
  if (known !== undefined) return new Date(known + withinMinute);
  const instant = resolveWallClock({ ...w, second: 0, millisecond: 0 }, zone);
  if (cache.size >= minuteCacheMax) cache.clear();
  cache.set(minuteKey, instant);
  return new Date(instant + withinMinute);
}

function resolveWallClock(w: WallClock, zone: string): number {
  const z = ianaZone(zone);
  if (!z) throw new ValueError(`unknown time zone ${zone}`);
  // Luxon resolves a gap forward (as we want) but a repeated time to its later occurrence;
  // look one offset-change earlier and keep that instant when it shows the same wall clock.
  const dt = DateTime.fromObject(w, { zone: z });
  if (!dt.isValid) throw new ValueError(`not a valid date-time (${dt.invalidReason})`);
  const ms = dt.toMillis();
  const offsetBefore = z.offset(ms - 86_400_000);
  const shift = (offsetBefore - dt.offset) * 60_000;
  if (shift > 0) {
    const earlier = ms - shift;
    const e = DateTime.fromMillis(earlier, { zone: z });
    if (e.hour === w.hour && e.minute === w.minute && e.day === w.day && e.second === w.second) {
      return earlier;
    }
  }
  return ms;
}

/** The value of `n` ASCII digits of `s` from `at`, or -1 when one is not a digit. */
function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * `YYYY-MM-DD HH:mm:ss` (or with `T`), the commonest form, read without regular expressions;
 * undefined for anything else, which the general rules then read.
 */
function fastWallClock(s: string): WallClock | undefined {
  if (s.length !== 19) return undefined;
  const sep = s.charCodeAt(10);
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || (sep !== 32 && sep !== 84)) return undefined;
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return undefined;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  if ((year | month | day | hour | minute | second) < 0) return undefined;
  return { year, month, day, hour, minute, second, millisecond: 0 };
}

export function parseTimestamp(raw: string, zone: string): Date {
  const fast = fastWallClock(raw);
  if (fast) {
    checkRanges(fast, raw);
    return wallClockToInstant(fast, zone);
  }
  const s = raw.trim();
  let m = isoWithZone.exec(s);
  if (m) {
    const w = {
      year: Number(m[1]),
      month: Number(m[2]),
      day: Number(m[3]),
      hour: Number(m[4]),
      minute: Number(m[5]),
      second: Number(m[6] ?? 0),
      millisecond: fraction(m[7]),
    };
    checkRanges(w, raw);
    const tz = m[8]!.toUpperCase();
    let offsetMin = 0;
    if (tz !== 'Z') {
      const sign = tz.startsWith('-') ? -1 : 1;
      const digits = tz.slice(1).replace(':', '');
      offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0));
    }
    const utc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.millisecond);
    return new Date(utc - offsetMin * 60_000);
  }
  m = isoLocal.exec(s);
  if (m) {
    const w = {
      year: Number(m[1]),
      month: Number(m[2]),
      day: Number(m[3]),
      hour: Number(m[4] ?? 0),
      minute: Number(m[5] ?? 0),
      second: Number(m[6] ?? 0),
      millisecond: fraction(m[7]),
    };
    checkRanges(w, raw);
    return wallClockToInstant(w, zone);
  }
  m = usLocal.exec(s);
  if (m) {
    let hour = Number(m[4] ?? 0);
    if (m[4] !== undefined && m[8] !== undefined) {
      if (hour < 1 || hour > 12) throw new ValueError(`not a valid 12-hour time: ${JSON.stringify(raw)}`);
      const pm = m[8].toLowerCase() === 'p';
      hour = (hour % 12) + (pm ? 12 : 0);
    }
    // Without AM/PM the time is read as 24-hour (a US date with a 24-hour clock).
    const w = {
      year: Number(m[3]),
      month: Number(m[1]),
      day: Number(m[2]),
      hour,
      minute: Number(m[5] ?? 0),
      second: Number(m[6] ?? 0),
      millisecond: fraction(m[7]),
    };
    checkRanges(w, raw);
    return wallClockToInstant(w, zone);
  }
  throw new ValueError(`not a recognised timestamp: ${JSON.stringify(raw)}`);
}

const trueWords = new Set(['true', 'yes', 'y', '1', 't']);
const falseWords = new Set(['false', 'no', 'n', '0', 'f']);

export function parseBoolean(raw: string): boolean {
  const s = raw.trim().toLowerCase();
  if (trueWords.has(s)) return true;
  if (falseWords.has(s)) return false;
  throw new ValueError(`not a boolean: ${JSON.stringify(raw)}`);
}

const plainNumber = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const groupedNumber = /^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$/;

/** Strips an optional `%` and thousands separators; returns the canonical decimal string. */
function numberText(raw: string): string {
  let s = raw.trim();
  if (s.endsWith('%')) s = s.slice(0, -1).trimEnd();
  s = s.replace(/[\s\u00a0\u202f]/g, '');
  if (groupedNumber.test(s)) s = s.replace(/,/g, '');
  if (!plainNumber.test(s)) throw new ValueError(`not a number: ${JSON.stringify(raw)}`);
  return s;
}

/**
 * True for `-?\d{1,15}` without a leading zero (but `0`): an integer that is its own canonical
 * text. Reads character codes through `at`, so that strings and raw bytes share one rule.
 */
function plainInteger(at: (i: number) => number, from: number, to: number): boolean {
  let i = at(from) === 45 ? from + 1 : from;
  const digits = to - i;
  if (digits < 1 || digits > 15) return false;
  if (at(i) === 48 && (digits > 1 || i > from)) return false;
  for (; i < to; i++) {
    const d = at(i) - 48;
    if (d < 0 || d > 9) return false;
  }
  return true;
}

/**
 * True for `-?\d+(\.\d+)?` with at most 15 digits: a decimal that every correct reader (Number,
 * PostgreSQL's float8in, `plainDecimalValue`) turns into the same double.
 */
function plainDecimal(at: (i: number) => number, from: number, to: number): boolean {
  let i = at(from) === 45 ? from + 1 : from;
  const first = i;
  let dot = false;
  for (; i < to; i++) {
    const c = at(i);
    if (c === 46 && !dot && i > first && i < to - 1) dot = true;
    else if (c < 48 || c > 57) return false;
  }
  return to > first && to - first - (dot ? 1 : 0) <= 15;
}

export function isPlainInteger(s: string): boolean {
  return plainInteger((i) => s.charCodeAt(i), 0, s.length);
}

export function isPlainDecimal(s: string): boolean {
  return plainDecimal((i) => s.charCodeAt(i), 0, s.length);
}

/** `isPlainInteger` of the bytes `buf[from, to)`. */
export function isPlainIntegerBytes(buf: Buffer, from: number, to: number): boolean {
  return plainInteger((i) => buf[i] ?? -1, from, to);
}

/** `isPlainDecimal` of the bytes `buf[from, to)`. */
export function isPlainDecimalBytes(buf: Buffer, from: number, to: number): boolean {
  return plainDecimal((i) => buf[i] ?? -1, from, to);
}

/** The value of bytes that `isPlainIntegerBytes` accepts (at most 15 digits: exact). */
export function plainIntegerValue(buf: Buffer, from: number, to: number): number {
  const neg = buf[from] === 45;
  let v = 0;
  for (let i = neg ? from + 1 : from; i < to; i++) v = v * 10 + ((buf[i] as number) - 48);
  return neg ? -v : v;
}

const powersOf10 = Array.from({ length: 16 }, (_, k) => 10 ** k);

/**
 * The value of bytes that `isPlainDecimalBytes` accepts. With at most 15 digits the digits and
 * the power of ten are exact doubles, and one IEEE division rounds correctly: the same double as
 * `Number` of the text (Clinger's fast path).
 */
export function plainDecimalValue(buf: Buffer, from: number, to: number): number {
  const neg = buf[from] === 45;
  let m = 0;
  let scale = 0;
  let dot = false;
  for (let i = neg ? from + 1 : from; i < to; i++) {
    const c = buf[i] as number;
    if (c === 46) {
      dot = true;
      continue;
    }
    m = m * 10 + (c - 48);
    if (dot) scale++;
  }
  const v = scale ? m / (powersOf10[scale] as number) : m;
  return neg ? -v : v;
}

export function parseNumber(raw: string): number {
  if (isPlainDecimal(raw)) return Number(raw);
  const n = Number(numberText(raw));
  if (!Number.isFinite(n)) throw new ValueError(`not a finite number: ${JSON.stringify(raw)}`);
  return n;
}

const int64Max = 9223372036854775807n;

/** Integers stay strings so that 64-bit values survive; `12.0` is accepted, `12.5` is not. */
export function parseInteger(raw: string): string {
  if (isPlainInteger(raw)) return raw;
  const s = numberText(raw);
  if (/^[+-]?\d+$/.test(s)) {
    const b = BigInt(s);
    if (b > int64Max || b < -int64Max - 1n)
      throw new ValueError(`integer out of range: ${JSON.stringify(raw)}`);
    return b.toString();
  }
  const n = Number(s);
  if (Number.isInteger(n) && Number.isSafeInteger(n)) return String(n);
  throw new ValueError(`not an integer: ${JSON.stringify(raw)}`);
}

/** Parses one non-empty cell for a column type. */
export function parseCell(type: ColumnType, raw: string, zone: string): CellValue {
  switch (type) {
    case 'text':
      return raw;
    case 'timestamp':
      return parseTimestamp(raw, zone);
    case 'integer':
      return parseInteger(raw);
    case 'number':
      return parseNumber(raw);
    case 'boolean':
      return parseBoolean(raw);
  }
}
