/** Quotes one field for CSV output (RFC 4180): in quotes, its own quotes doubled, whatever it holds. */
export function csvQuoteAlways(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** Quotes one field for CSV output (RFC 4180): quoted when it holds a comma, quote or line end. */
export function csvQuoteIfNeeded(s: string): string {
  return /[",\r\n]/.test(s) ? csvQuoteAlways(s) : s;
}
