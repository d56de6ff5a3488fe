import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { PglitePool } from '../../connectors/postgres/pglite-pool.js';
import { startSimulator } from '../../simulator/simulator-server.js';
import { resolveConfig } from '../config/load-config.js';
import { runSync } from '../engine/sync-runner.js';
import type { Logger } from '../log/logger.js';
import { createContext } from './context.js';
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
 * four streams, then a summary and a sample query.
 */
export async function demoCommand(args: DemoArgs, log: Logger): Promise<number> {
  const work = await mkdtemp(join(tmpdir(), 'cxone-od-sync-demo-'));
  // int8 as text, as node-postgres gives it.
  const parsers = { 20: (v: string) => v };
  const db = args.keep
    ? await PGlite.create(resolve(args.keep), { parsers })
    : await PGlite.create({ parsers });
  const pool = new PglitePool(db);
  const dbUrl = 'pglite://demo';
  const sim = await startSimulator({ faults: { quota: 4 } });
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
          exportsPer24h: 4,
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
    const ctx = { ...createContext(config, log, undefined, pool), parallelExports: 1 };
    let summary: Awaited<ReturnType<typeof runSync>>;
    try {
      await ctx.state.migrate();
      summary = await runSync(ctx);
    } finally {
      await ctx.close();
    }
    const counts: { table: string; rows: number }[] = [];
    for (const s of config.streams) {
      const r = await db.query<{ n: string }>(`select count(*) as n from cxone.${s.schema.name}`);
      counts.push({ table: `cxone.${s.schema.name}`, rows: Number(r.rows[0]!.n) });
    }
    const sample = (
      await db.query<Record<string, unknown>>(
        `select team, response_status, count(*) as suggestions, round(avg(latency_ms)::numeric, 1) as avg_latency_ms
           from cxone.copilot_kb group by 1, 2 order by 1, 2 limit 8`,
      )
    ).rows;
    emit(
      {
        command: 'demo',
        outcome: summary.outcome,
        exitCode: summary.exitCode,
        tables: counts,
        sync: summary,
        sample,
      },
      args.json,
      () =>
        [
          `demo sync ${summary.outcome}: ${summary.exportsRequested} exports from the simulator, ${summary.rowsLoaded} rows loaded into embedded PostgreSQL (PGlite)`,
          '',
          table([['table', 'rows'], ...counts.map((c) => [c.table, String(c.rows)])]),
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
    return summary.exitCode;
  } finally {
    await sim.close();
    await db.close();
    await rm(work, { recursive: true, force: true });
  }
}
