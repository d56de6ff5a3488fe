/** A user's date read: the instant, or what is wrong with it. */
export type InstantReading = { readonly date: Date } | { readonly problem: string };

const isoInstant =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|([+-])(\d{2}):?(\d{2}))?)?$/i;

const monthNames = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/**
 * Reads an ISO 8601 date or date-time (the `--start`, `--end` and `--to` flags, a stream's
 * `start`): a time without `Z` or an offset is UTC (not the host's time zone, which is how `Date`
 * reads it), a date alone is its midnight UTC, `T` may be a space. A date the calendar does not
 * have (February 30th, month 13) or a time past 24:00 is refused, where `Date` would roll it
 * over into the next month or day; 24:00 itself is the end of the day, as ISO 8601 has it.
 */
export function readIsoInstant(value: string): InstantReading {
  const m = isoInstant.exec(value.trim());
  if (!m) return { problem: 'not ISO 8601' };
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone, sign, oh = '00', om = '00'] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12) return { problem: `there is no month ${month}` };
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  if (day < 1 || day > days)
    return { problem: `${monthNames[month - 1]} ${year} has days 1 to ${days}, not ${day}` };
  const endOfDay = hour === 24 && minute === 0 && second === 0 && !/[1-9]/.test(frac);
  if ((hour > 23 && !endOfDay) || minute > 59 || second > 59)
    return { problem: `${h}:${mi}${m[6] ? `:${s}` : ''} is not a time of day (00:00 to 23:59:59)` };
  if (Number(oh) > 23 || Number(om) > 59) return { problem: `${sign}${oh}:${om} is not a UTC offset` };
  const offset = zone === undefined || sign === undefined ? 'Z' : `${sign}${oh}:${om}`;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${frac}${offset}`);
  return Number.isNaN(date.getTime()) ? { problem: 'not a date' } : { date };
}
