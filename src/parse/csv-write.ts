/** Quotes one field for CSV output (RFC 4180): in quotes, its own quotes doubled, whatever it holds. */
export function csvQuote(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** Quotes one field for CSV output (RFC 4180): quoted when it holds a comma, quote or line end. */
export function csvQuoteField(s: string): string {
  return /[",\r\n]/.test(s) ? csvQuote(s) : s;
}
