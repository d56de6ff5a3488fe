import { resolve } from 'node:path';
import { streamSchemas } from '../../schemas/index.js';
import { type Context, type Deployment, openDeployment, withDeployment } from '../deployment/deployment.js';
import { exitCodeOf, worstExitCode } from '../errors.js';
import { checkArchiveDir } from '../export/archive-check.js';
import { backoffNote, inBackoff } from '../ledger/export-backoff.js';
import { existingRowsAccount as rowsAccount } from '../load/account-column.js';
import type { Logger } from '../log/logger.js';
import { redact } from '../log/redact.js';
import { rowJsonSchema } from '../model/row-schema.js';
import type { StreamSchema } from '../model/stream-schema.js';
import { assertClockAgrees, maxClockSkewMs } from '../run/clock-check.js';
import { nextDue, recordNextDue } from '../run/next-due.js';
import { quotaSummary } from '../run/sync-summary.js';
import { defineCommand } from './cli-command.js';
import { ago, backoffLines, backoffView, dueText, emit, emitPerAccount, quotaText, table } from './output.js';

export async function streamsCommand(args: { json: boolean }): Promise<number> {
  const result = streamSchemas.map((s) => ({
    name: s.name,
    apiPaths: s.apiPaths,
    eventTime: s.eventTime,
    accepts: s.accepts,
    description: s.description,
    jsonSchema: rowJsonSchema(s),
  }));
  emit(args.json ? result : null, args.json, () =>
    streamSchemas
      .map(
        (s) =>
          `${s.name}  (${s.apiPaths.join(' | ')}; event time ${s.eventTime})\n  ${s.description}\n${table(
            s.columns.map((c) => ['   ', c.name, c.type, c.headers.join(' / '), c.description]),
          )}`,
      )
      .join('\n\n'),
  );
  return 0;
}

export async function checkCommand(
  args: { config?: string; json: boolean; account?: string[] },
  log: Logger,
): Promise<number> {
  const d = openDeployment(args.config, log, args.account);
  const config = d.config;
  const checks: { check: string; ok: boolean; detail?: string; account?: string }[] = [];
  const many = config.raw.accounts !== undefined;
  const failed: number[] = [];
  try {
    const streams = enabledStreams(d);
    checks.push({
      check: 'config',
      ok: true,
      detail: `${d.accounts.length} account(s), ${streams.length} stream(s) enabled`,
    });
    const { freeBytes } = await checkArchiveDir(config.archive.dir, config.archive.minFreeMB);
    checks.push({
      check: 'archive',
      ok: true,
      detail: `${resolve(config.archive.dir)} writable, ${Math.floor(freeBytes / 1_048_576)} MB free`,
    });
    // Every account's credentials are tried, so that one run names every account to fix.
    for (const ctx of d.accounts) {
      const key = ctx.config.accountKey;
      const named = (what: string) => (many ? { check: `${what} of ${key}`, account: key } : { check: what });
      const fails = (what: string, err: unknown) => {
        failed.push(exitCodeOf(err));
        checks.push({ ...named(what), ok: false, detail: redact((err as Error).message) });
      };
      try {
        await ctx.tokens.get();
        checks.push({
          ...named('credentials'),
          ok: true,
          detail: `token from ${new URL(ctx.config.settings.authUrl).host}`,
        });
      } catch (err) {
        if (!many) throw err;
        fails('credentials', err);
        continue;
      }
      // The vendor's clock against this host's, by the test and the tolerance a sync applies
      // before it plans anything (the token's answer gives the reading: no other call).
      try {
        await assertClockAgrees(ctx.client, ctx.log, ctx.clock.now());
        checks.push({
          ...named('clock'),
          ok: true,
          detail: `within ${maxClockSkewMs / 60_000} minutes of the vendor's`,
        });
      } catch (err) {
        fails('clock', err);
      }
    }
    await d.state.ping();
    checks.push({ check: 'state store', ok: true });
    const found = await d.destination.check(streams);
    checks.push({ check: `destination (${d.destination.name})`, ok: true, detail: found });
  } finally {
    await d.close();
  }
  const accounts = d.accounts.map((c) => c.config.accountKey);
  const exitCode = worstExitCode(failed);
  emit(
    {
      command: 'check',
      ok: failed.length === 0,
      exitCode,
      ...(many ? {} : { account: accounts[0] }),
      accounts,
      checks,
    },
    args.json,
    () =>
      checks.map((c) => `${c.ok ? 'ok' : 'FAIL'}  ${c.check}${c.detail ? `: ${c.detail}` : ''}`).join('\n'),
  );
  return exitCode;
}

/** Every stream enabled for at least one of the deployment's accounts, once each. */
export function enabledStreams(d: Deployment): StreamSchema[] {
  const byName = new Map<string, StreamSchema>();
  for (const ctx of d.accounts) for (const s of ctx.config.streams) byName.set(s.schema.name, s.schema);
  return [...byName.values()];
}

export async function migrateCommand(
  args: { config?: string; json: boolean; account?: string[] },
  log: Logger,
): Promise<number> {
  const d = openDeployment(args.config, log, args.account);
  try {
    const applied = await d.state.migrate();
    const streams = enabledStreams(d);
    for (const s of streams)
      await d.destination.ensureTable(s, [], rowsAccount(d.state, s.name, d.soleAccount));
    // The freshness view has a row per account and enabled stream, with its next due time,
    // before any sync.
    for (const ctx of d.accounts)
      await recordNextDue({ state: d.state, config: ctx.config, now: d.clock.now() });
    const tables = streams.map((s) => s.name);
    emit({ command: 'migrate', applied, tables }, args.json, () =>
      [
        applied.length ? `applied: ${applied.join(', ')}` : 'state store up to date',
        `destination tables ensured: ${tables.join(', ')}`,
      ].join('\n'),
    );
    return 0;
  } finally {
    await d.close();
  }
}

export async function statusCommand(
  args: { config?: string; json: boolean; account?: string[] },
  log: Logger,
): Promise<number> {
  return withDeployment(args.config, log, args.account, async (d) => {
    const shown: { result: unknown; text: string }[] = [];
    for (const ctx of d.accounts) shown.push(await accountStatus(ctx));
    emitPerAccount('status', shown, args.json, d.config.raw.accounts !== undefined);
    return 0;
  });
}

/** One account's status: its quota, last run and streams, as JSON and as text. */
async function accountStatus(ctx: Context): Promise<{ result: unknown; text: string }> {
  const config = ctx.config;
  const now = ctx.clock.now();
  const account = config.accountKey;
  const [watermarks, gaps, inFlight, runs, quota] = await Promise.all([
    ctx.state.watermarks.byStream(account),
    ctx.state.watermarks.gaps(account),
    ctx.state.exports.unfinished(
      account,
      config.streams.map((s) => s.schema.name),
    ),
    ctx.state.runs.last(account, 1),
    ctx.state.quota.view(account, config.quota, now),
  ]);
  // What the scheduler would decide if a sync ran now.
  const due = (await nextDue({ state: ctx.state, config, now, watermarks })).streams;
  const streams = config.streams.map((s) => {
    const name = s.schema.name;
    const wm = watermarks.get(name) ?? null;
    return {
      stream: name,
      watermark: wm?.toISOString() ?? null,
      lagMinutes: wm ? Math.round((now.getTime() - wm.getTime()) / 60_000) : null,
      nextDueAt: due.get(name)?.dueAt?.toISOString() ?? null,
      dueNote: due.get(name)?.note ?? null,
      backoff: backoffView(due.get(name)?.backoff ?? null),
      gaps: gaps
        .filter((g) => g.stream === name)
        .map((g) => ({ start: g.start.toISOString(), end: g.end.toISOString(), reason: g.reason })),
      inFlight: inFlight
        .filter((e) => e.stream === name)
        .map((e) => ({
          ledgerId: e.ledgerId,
          vendorExportId: e.vendorExportId,
          exportId: e.vendorExportId,
          status: e.status,
          windowStart: e.windowStart.toISOString(),
          windowEnd: e.windowEnd.toISOString(),
          error: e.error,
          failures: e.failures,
          nextAttemptAt: e.nextAttemptAt?.toISOString() ?? null,
          ...(inBackoff(e, now) ? { stuck: backoffNote(e) } : {}),
        })),
    };
  });
  const lastRun = runs[0]
    ? {
        id: runs[0].id,
        startedAt: runs[0].startedAt.toISOString(),
        endedAt: runs[0].endedAt?.toISOString() ?? null,
        outcome: runs[0].outcome,
      }
    : null;
  const result = {
    command: 'status',
    account,
    quota: quotaSummary(quota),
    lastRun,
    streams,
  };
  const text = (() => {
    const rows = [['stream', 'watermark', 'lag', 'next due', 'in flight', 'gaps']];
    for (const s of streams) {
      rows.push([
        s.stream,
        s.watermark ?? 'never synced',
        ago(s.watermark ? new Date(s.watermark) : null, now),
        dueText(s.nextDueAt, s.dueNote, now),
        String(s.inFlight.length),
        s.gaps.map((g) => `${g.start}..${g.end}`).join('; ') || '-',
      ]);
    }
    const free = quota.blockedUntil ?? quota.nextSlotAt;
    const stuck = streams.flatMap((s) =>
      s.inFlight.flatMap((e) => (e.stuck ? [`${s.stream}: ${e.stuck}`] : [])),
    );
    const backedOff = backoffLines(streams);
    return `${stuck.length ? `stuck exports (sync exits 1 for their streams):\n${stuck.join('\n')}\n` : ''}${backedOff.length ? `streams backed off (the other streams take their slots):\n${backedOff.join('\n')}\n` : ''}account ${account}: ${quotaText(quota)}${free ? `, next slot ${free.toISOString()}` : ''}\nlast run: ${lastRun ? `${lastRun.outcome ?? 'running'} at ${lastRun.startedAt}` : 'none'}\n${table(rows)}`;
  })();
  return { result, text };
}

export const checkCli = defineCommand({
  command: 'check',
  describe: 'validate config, get a token, reach the state store and destination; spends no quota',
  builder: (y) => y,
  run: (a, log) => checkCommand(a, log),
});

export const streamsCli = defineCommand({
  command: 'streams',
  describe: 'list streams, their columns and types (--json gives JSON Schema)',
  noAccount: 'it lists the stream schemas built into the connector, the same for every account',
  builder: (y) => y,
  run: (a) => streamsCommand(a),
});

export const statusCli = defineCommand({
  command: 'status',
  describe: 'watermarks, lag, gaps, exports in flight, quota',
  builder: (y) => y,
  run: (a, log) => statusCommand(a, log),
});

export const migrateCli = defineCommand({
  command: 'migrate',
  describe: 'apply state-store migrations and create destination tables',
  builder: (y) => y,
  run: (a, log) => migrateCommand(a, log),
});
