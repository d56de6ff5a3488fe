import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { resolveConfig } from '../config/load-config.js';
import { createDeployment } from '../deployment/deployment.js';
import { existingRowsAccount } from '../load/account-column.js';
import type { Logger } from '../log/logger.js';
import { runSync } from '../run/sync-runner.js';
import { defineCommand } from './cli-command.js';
import { emit, table } from './output.js';

export interface DemoArgs {
  json: boolean;
  days: number;
  /** Keep the embedded database in this directory (default: in memory, gone at exit). */
  keep?: string;
  /** Keep serving the database for psql after the sync, until Ctrl-C. */
  serve: boolean;
  port: number;
}

/**
 * A whole sync with nothing installed: the simulator in process, an embedded PostgreSQL
 * (PGlite, served over the wire protocol by pglite-socket) as state store and destination, all
 * four streams, then a summary and a sample query. The account has the vendor's real quota of 3
 * exports per rolling 24 hours, so one of the four streams is deferred to the next free slot, and
 * the output says so. That deferral is what a real first sync does (exit 75); the demo itself
 * succeeded, so it exits 0 (1 only when a stream failed).
 */
export async function demoCommand(args: DemoArgs, log: Logger): Promise<number> {
  // Loaded here, not at the top: the CLI reads this file for every command, and PGlite and the
  // simulator are needed by this one alone.
  const [{ PGlite }, { PglitePool }, { startSimulator }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('../../connectors/postgres/pglite-pool.js'),
    import('../../simulator/simulator-server.js'),
  ]);
  const work = await mkdtemp(join(tmpdir(), 'cxone-od-sync-demo-'));
  // int8 as text, as node-postgres gives it.
  const parsers = { 20: (v: string) => v };
  const db = args.keep
    ? await PGlite.create(resolve(args.keep), { parsers })
    : await PGlite.create({ parsers });
  const pool = new PglitePool(db);
  const dbUrl = 'pglite://demo';
  const sim = await startSimulator();
  try {
    const start = new Date(Date.now() - args.days * 86_400_000);
    start.setUTCHours(0, 0, 0, 0);
    const config = resolveConfig(
      {
        account: {
          name: 'demo',
          authUrl: sim.authUrl,
          apiBase: sim.apiBase,
          ...sim.credentials,
          pollIntervalSeconds: 0.1,
        },
        archive: { dir: join(work, 'archive') },
        destination: { type: 'postgres', url: dbUrl, schema: 'cxone', copy: false },
        streams: {
          copilot_kb: { start: start.toISOString(), timeZone: 'America/New_York' },
          copilot_as: { start: start.toISOString(), timeZone: 'America/New_York' },
          copilot_aq: { start: start.toISOString(), timeZone: 'Europe/Berlin' },
          autopilot_gr: { start: start.toISOString() },
        },
      },
      {},
      'demo config',
    );
    // PGlite is one session: one export at a time.
    const d = createDeployment(config, log, { pool });
    const account = config.accounts[0]!;
    const ctx = { ...d.accounts[0]!, parallelExports: 1 };
    let summary: Awaited<ReturnType<typeof runSync>>;
    try {
      // As `migrate` does: the state store, then every stream's table (the deferred one too).
      await ctx.state.migrate();
      for (const s of account.streams)
        await ctx.destination.ensureTable(
          s.schema,
          [],
          existingRowsAccount(ctx.state, s.schema.name, d.soleAccount),
        );
      // The next slot is a day away: never wait for it.
      summary = await runSync(ctx, { noWait: true });
    } finally {
      await d.close();
    }
    const counts: { table: string; rows: number; state: string }[] = [];
    for (const s of account.streams) {
      const name = s.schema.name;
      const r = await db.query<{ n: string }>(`select count(*) as n from cxone.${name}`);
      const state = summary.streams.find((x) => x.stream === name)?.state ?? 'nothing_due';
      counts.push({ table: `cxone.${name}`, rows: Number(r.rows[0]!.n), state });
    }
    const sample = (
      await db.query<Record<string, unknown>>(
        `select team, response_status, count(*) as suggestions, round(avg(latency_ms)::numeric, 1) as avg_latency_ms
           from cxone.copilot_kb group by 1, 2 order by 1, 2 limit 8`,
      )
    ).rows;
    const loaded = summary.streams.filter((s) => s.state === 'done').map((s) => s.stream);
    const deferred = summary.streams
      .filter((s) => s.state === 'deferred')
      .map((s) => ({ stream: s.stream, nextSlotAt: summary.nextSlotAt, note: s.note ?? null }));
    const failed = summary.streams.some((s) => s.state === 'failed');
    const exitCode = failed ? summary.exitCode : 0;
    emit(
      {
        command: 'demo',
        outcome: failed ? 'failed' : 'done',
        exitCode,
        quota: summary.quota,
        loaded,
        deferred,
        explanation: quotaExplanation(summary.quota.limit, account.streams.length, deferred.length),
        tables: counts,
        sync: summary,
        sample,
      },
      args.json,
      () =>
        [
          `demo sync: ${summary.exportsRequested} exports from the simulator, ${loaded.length} of ${account.streams.length} streams loaded (${summary.rowsLoaded} rows) into embedded PostgreSQL (PGlite)`,
          quotaExplanation(summary.quota.limit, account.streams.length, deferred.length),
          ...deferred.map(
            (d) =>
              `  deferred: ${d.stream}, next slot at ${d.nextSlotAt ?? 'unknown'} (a real sync exits 75 here: progress is saved, run it again then)`,
          ),
          failed
            ? `demo sync failed: ${summary.streams
                .filter((s) => s.state === 'failed')
                .map((s) => `${s.stream}: ${s.error}`)
                .join('; ')}`
            : 'the demo itself succeeded (exit 0)',
          '',
          table([['table', 'rows', 'stream'], ...counts.map((c) => [c.table, String(c.rows), c.state])]),
          '',
          'sample query: suggestions and latency by team and response status (cxone.copilot_kb)',
          table([
            ['team', 'response_status', 'suggestions', 'avg_latency_ms'],
            ...sample.map((r) => [
              String(r.team),
              String(r.response_status),
              String(r.suggestions),
              String(r.avg_latency_ms),
            ]),
          ]),
        ].join('\n'),
    );
    if (args.serve) {
      const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
      const server = new PGLiteSocketServer({ db, port: args.port, host: '127.0.0.1' });
      await server.start();
      process.stderr.write(
        `\nserving the demo database: psql "postgres://postgres@${server.getServerConn()}/postgres"   (Ctrl-C to stop)\n`,
      );
      await new Promise<void>((r) => {
        process.once('SIGINT', r);
        process.once('SIGTERM', r);
      });
      await server.stop();
    }
    return exitCode;
  } finally {
    await sim.close();
    await db.close();
    await rm(work, { recursive: true, force: true });
  }
}

/** Why a stream waits: the vendor's quota against the number of streams. */
function quotaExplanation(quota: number, streams: number, deferred: number): string {
  if (deferred === 0)
    return `quota: ${quota} exports per rolling 24 hours, enough for all ${streams} streams`;
  return `quota: the vendor allows ${quota} exports per rolling 24 hours (account.exportsPer24h: ${quota}); ${streams} streams need ${streams}, so ${deferred} waits for the next free slot`;
}

export const demoCli = defineCommand({
  command: 'demo',
  describe: 'a whole sync against the simulator into an embedded PostgreSQL: no server, no credentials',
  noAccount: 'it syncs a simulated account of its own into an embedded database, and reads no config',
  builder: (y) =>
    y
      .option('days', { type: 'number', default: 7, describe: 'days of history to sync' })
      .option('keep', { type: 'string', describe: 'keep the embedded database in this directory' })
      .option('serve', {
        type: 'boolean',
        default: false,
        describe: 'keep serving the database for psql after the sync',
      })
      .option('port', {
        type: 'number',
        default: 0,
        describe: 'port for --serve (default: any free port)',
      }),
  run: (a, log) => demoCommand(a, log),
});
