import type { CellValue } from '../../src/parse/value-parsers.js';

/** Escapes a value for COPY's text format (tab-separated, `\N` for NULL). */
export function copyTextValue(v: CellValue): string {
  if (v === null) return '\\N';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number') return String(v);
  let needs = false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 92 || c === 9 || c === 10 || c === 13) {
      needs = true;
      break;
    }
  }
  return needs
    ? v.replace(/[\\\t\n\r]/g, (ch) =>
        ch === '\\' ? '\\\\' : ch === '\t' ? '\\t' : ch === '\n' ? '\\n' : '\\r',
      )
    : v;
}

/** One COPY text line: a row's values, its source line, then a pre-escaped tab-separated suffix. */
export function copyTextLine(values: readonly CellValue[], line: number, suffix: string): string {
  let out = '';
  for (let i = 0; i < values.length; i++) out += `${copyTextValue(values[i] ?? null)}\t`;
  return `${out}${line}\t${suffix}\n`;
}
