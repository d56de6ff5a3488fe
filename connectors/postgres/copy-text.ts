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

/** One COPY text line for a row's values followed by extra trailing values. */
export function copyTextLine(values: readonly CellValue[], trailing: readonly CellValue[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) line += `${i ? '\t' : ''}${copyTextValue(values[i] ?? null)}`;
  for (const t of trailing) line += `\t${copyTextValue(t)}`;
  return `${line}\n`;
}
