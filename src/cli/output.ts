import { redact } from '../log/redact.js';
import type { QuotaView, StreamBackoff } from '../ports/state-ports.js';

/**
 * Writes a command's result: with `--json`, one JSON document on one line of stdout (so that an
 * orchestrator that keeps the last line, as Airflow's BashOperator does, gets all of it);
 * readable text otherwise.
 */
export function emit(result: unknown, json: boolean, human: () => string): void {
  if (json) process.stdout.write(`${redact(JSON.stringify(result))}\n`);
  else process.stdout.write(`${redact(human())}\n`);
}

export function table(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function ago(from: Date | null | undefined, now: Date): string {
  if (!from) return '-';
  const mins = Math.round((now.getTime() - from.getTime()) / 60_000);
  if (Math.abs(mins) < 120) return `${mins}m`;
  const hours = Math.round(mins / 60);
  return Math.abs(hours) < 72 ? `${hours}h` : `${Math.round(hours / 24)}d`;
}

/** A stream's next due time for a table: `now` once it has come, else the instant, else the note. */
export function dueText(nextDueAt: string | null, note: string | null, now: Date): string {
  if (nextDueAt === null) return note ?? '-';
  return Date.parse(nextDueAt) <= now.getTime() ? 'now' : nextDueAt;
}

/**
 * A command's result per account: with one `account:` (`perAccount` false), its document as it
 * always was; with `accounts:`, `{ command, accounts: [...] }`, and the accounts' texts one after another.
 */
export function emitPerAccount(
  command: string,
  shown: readonly { result: unknown; text: string }[],
  json: boolean,
  perAccount: boolean,
): void {
  if (!perAccount && shown.length === 1) {
    emit(shown[0]!.result, json, () => shown[0]!.text);
    return;
  }
  emit({ command, accounts: shown.map((s) => s.result) }, json, () => shown.map((s) => s.text).join('\n\n'));
}

/** The quota in words: used of the limit, and what is left to others and why. */
export function quotaText(q: QuotaView): string {
  const others = q.reserved
    ? ` (${q.reserved} of ${q.perDay} left to others${q.othersSeen && q.othersSeen.slots >= q.reserved ? `: seen in use by someone else, until ${q.othersSeen.until.toISOString()}` : ': reserveForOthers'})`
    : '';
  return `quota ${q.used}/${q.limit} used in the last 24h${others}`;
}

/** A stream's backoff as `status` and `plan` show it in JSON (null when none is in force). */
export function backoffView(row: StreamBackoff | null) {
  return row
    ? {
        reason: row.reason,
        failures: row.failures,
        since: row.firstFailedAt.toISOString(),
        until: row.nextAttemptAt.toISOString(),
        error: row.error,
      }
    : null;
}

/** The streams backed off, a line each with the backoff's note: `status` and `plan` head their tables with them. */
export function backoffLines(
  streams: readonly { stream: string; backoff: unknown; dueNote: string | null }[],
): string[] {
  return streams.flatMap((s) => (s.backoff ? [`${s.stream}: ${s.dueNote}`] : []));
}
