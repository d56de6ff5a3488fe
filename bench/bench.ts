/**
 * `npm run bench`: end-to-end throughput of a `sync` against PostgreSQL's own CSV loader.
 *
 * For each size (100k and 1M rows; 5M with --with-5m) it writes a seeded CSV shaped like
 * copilot_kb, serves it from the simulator, and runs, alternately, a full `sync` of it (the
 * built CLI, a child process) into PostgreSQL and `psql \copy` of the same file into a typed
 * table of the same definition (both logged tables, same server). It prints rows per second for
 * both, their ratio and the connector's peak RSS (VmHWM), medians over --runs runs. The last line
 * is `ratio_vs_psql_copy=<number> peak_rss_mb=<number> rows=<number>` for the largest size.
 *
 * `--destination bigquery`: the sync loads into the local BigQuery stand-in of the tests
 * (test/support/fake-bigquery.ts, in this process; the state store stays in PostgreSQL) instead,
 * so that its peak RSS is measured the same way; `psql \copy` still runs beside it for scale.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { createTableStatements } from '../connectors/postgres/postgres-ddl.js';
import { copilotKb } from '../schemas/copilot-kb.js';
import { rng } from '../simulator/simulator-data.js';
import { startSimulator } from '../simulator/simulator-server.js';
import { startFakeBigQuery } from '../test/support/fake-bigquery.js';
import { benchDatabaseUrl, flag, median, opt, run } from './bench-process.js';

const runs = Number(opt('runs', '3'));
const sizes = opt('rows', '')
  ? opt('rows', '').split(',').map(Number)
  : [100_000, 1_000_000, ...(flag('with-5m') ? [5_000_000] : [])];
const destinationType = opt('destination', 'postgres');
if (destinationType !== 'postgres' && destinationType !== 'bigquery') {
  throw new Error(`--destination: postgres or bigquery, not ${destinationType}`);
}
const cliPath = new URL('../src/cli/main.js', import.meta.url).pathname;

/** A copilot_kb export with `rows` rows, one a second from `start`; values psql can read too. */
async function writeCsv(path: string, rows: number, start: Date): Promise<void> {
  const out = createWriteStream(path);
  const r = rng(7);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const teams = ['Support', 'Billing', 'Tier 2, Escalations', 'Sales'];
  const articles = [
    'How to reset a password',
    'Refunds, returns and exchanges',
    'Shipping "express" vs. standard',
    'Billing FAQ\nSection 2',
    'Café menu — allergens 🍰',
  ];
  const q = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  await new Promise<void>((res) =>
    out.write(`\uFEFF${copilotKb.columns.map((c) => c.headers[0]).join(',')}\r\n`, () => res()),
  );
  let buf = '';
  for (let i = 0; i < rows; i++) {
    const t = new Date(start.getTime() + i * 1000).toISOString().replace('T', ' ').slice(0, 19);
    const shown = 1 + Math.floor(r() * 5);
    buf += `${[
      t,
      String(600000000000 + i),
      String(1000 + Math.floor(r() * 50)),
      q(pick(['Ana García', 'Björn Müller', '山田 太郎', "Chloé O'Brien"])),
      q(pick(teams)),
      pick(['Technical Support', 'Billing Inquiry', 'Retention']),
      pick(['Voice', 'Chat', 'Email']),
      pick(['profile-abc123', 'profile-def456']),
      `sug-${i.toString(16)}`,
      q(pick(articles)),
      pick(['Billing', 'Password reset', 'Shipping']),
      pick(['Used', 'Modified', 'Ignored', 'No Response']),
      String(shown),
      String(Math.floor(r() * (shown + 1))),
      r() < 0.3 ? '' : String(1 + Math.floor(r() * 5)),
      String(Math.round(r() * 250_000) / 100),
    ].join(',')}\r\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

async function main() {
  const admin = new pg.Client({ connectionString: benchDatabaseUrl });
  await admin.connect();
  const work = await mkdtemp(join(tmpdir(), 'cxone-bench-'));
  const dbName = `cxone_bench_${process.pid}`;
  await admin.query(`create database ${dbName}`);
  const u = new URL(benchDatabaseUrl);
  u.pathname = `/${dbName}`;
  const benchUrl = u.toString();
  const db = new pg.Client({ connectionString: benchUrl });
  await db.connect();
  let last = { ratio: 0, rssMb: 0, rows: 0 };
  try {
    for (const rows of sizes) {
      const start = new Date(Date.now() - (Math.ceil(rows / 86_400) + 2) * 86_400_000);
      start.setUTCHours(0, 0, 0, 0);
      const end = new Date(start.getTime() + rows * 1000);
      const csv = join(work, `copilot_kb_${rows}.csv`);
      await writeCsv(csv, rows, start);
      const sim = await startSimulator({ staticFiles: { copilot_kb: csv }, faults: { quota: 1000 } });
      const fake = destinationType === 'bigquery' ? await startFakeBigQuery('bench-project') : undefined;
      const destination = fake
        ? { type: 'bigquery', projectId: fake.projectId, dataset: 'cxone', apiEndpoint: fake.url }
        : { type: 'postgres', url: benchUrl, schema: 'cxone' };
      const destinationEnv = fake
        ? {
            GCE_METADATA_HOST: fake.metadataHost,
            METADATA_SERVER_DETECTION: 'assume-present',
            GOOGLE_APPLICATION_CREDENTIALS: '',
          }
        : {};
      const config = join(work, 'bench.yaml');
      await writeFile(
        config,
        stringify({
          account: {
            name: 'bench',
            authUrl: sim.authUrl,
            apiBase: sim.apiBase,
            ...sim.credentials,
            exportsPer24h: 1000,
            pollIntervalSeconds: 0.05,
          },
          archive: { dir: join(work, 'archive'), keepDays: 0 },
          state: { url: benchUrl },
          destination,
          streams: { copilot_kb: {} },
        }),
      );
      const psqlSchema = 'bench_psql';
      for (const stmt of createTableStatements(psqlSchema, copilotKb)) await db.query(stmt);
      // The same definition; psql has no export id or account to give, so those take a constant.
      await db.query(`alter table ${psqlSchema}.copilot_kb alter column _export_id set default 'psql'`);
      await db.query(`alter table ${psqlSchema}.copilot_kb alter column _account set default 'psql'`);
      const cols = copilotKb.columns.map((c) => `"${c.name}"`).join(', ');
      const sync: { ms: number; peakKb: number }[] = [];
      const psql: number[] = [];
      for (let i = 0; i < runs; i++) {
        // Fresh target each run: the sync replaces its window; truncate both for a like-for-like load.
        await db.query(`truncate table ${psqlSchema}.copilot_kb`);
        await db.query(`drop schema if exists cxone cascade; drop schema if exists cxone_od_sync cascade`);
        const s = await run(
          process.execPath,
          [
            ...(flag('profile') ? ['--cpu-prof', '--cpu-prof-dir', opt('profile-dir', '.')] : []),
            cliPath,
            'sync',
            '--config',
            config,
            '--json',
            '--start',
            start.toISOString(),
            '--end',
            end.toISOString(),
          ],
          {
            CXONE_OD_SYNC_LOG_LEVEL: flag('verbose') ? 'info' : 'warn',
            ...destinationEnv,
            // The sync's Node settings alone (the image's: --node-options "--max-old-space-size=128
            // --max-semi-space-size=8"); this process keeps its own, as it holds the stand-in's rows.
            ...(opt('node-options', '') ? { NODE_OPTIONS: opt('node-options', '') } : {}),
          },
        );
        if (flag('verbose')) process.stderr.write(s.stderr);
        if (s.code !== 0) throw new Error(`sync exited ${s.code}: ${s.stderr.slice(-2000)}`);
        const n = fake
          ? fake.rows('cxone', 'copilot_kb').length
          : Number(
              (
                (await db.query<{ n: string }>(`select count(*) as n from cxone.copilot_kb`)).rows as [
                  { n: string },
                ]
              )[0].n,
            );
        fake?.tables.clear();
        fake?.jobs.clear();
        if (n !== rows) throw new Error(`sync loaded ${n} rows, expected ${rows}`);
        sync.push({ ms: s.ms, peakKb: s.peakKb });
        const p = await run('psql', [
          benchUrl,
          '-v',
          'ON_ERROR_STOP=1',
          '-c',
          `\\copy ${psqlSchema}.copilot_kb (${cols}) from '${csv}' with (format csv, header true)`,
        ]);
        if (p.code !== 0) throw new Error(`psql exited ${p.code}: ${p.stderr}`);
        psql.push(p.ms);
      }
      await sim.close();
      await fake?.close();
      const syncMs = median(sync.map((s) => s.ms));
      const psqlMs = median(psql);
      const rssMb = Math.round(median(sync.map((s) => s.peakKb)) / 1024);
      const ratio = psqlMs / syncMs;
      console.log(
        `rows=${rows} runs=${runs} sync_median_s=${(syncMs / 1000).toFixed(2)} sync_rows_per_s=${Math.round(rows / (syncMs / 1000))} ` +
          `psql_copy_median_s=${(psqlMs / 1000).toFixed(2)} psql_rows_per_s=${Math.round(rows / (psqlMs / 1000))} ratio=${ratio.toFixed(3)} peak_rss_mb=${rssMb}`,
      );
      last = { ratio, rssMb, rows };
      await rm(csv, { force: true });
      await rm(join(work, 'archive'), { recursive: true, force: true });
    }
  } finally {
    await db.end();
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
    await rm(work, { recursive: true, force: true });
  }
  console.log(`ratio_vs_psql_copy=${last.ratio.toFixed(3)} peak_rss_mb=${last.rssMb} rows=${last.rows}`);
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(err);
    // A failed run may leave the simulator listening; do not hang.
    process.exit(1);
  },
);
