/** Quotes one field for CSV output (RFC 4180): quoted when it holds a comma, quote or line end. */
export function csvQuoteField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
