/**
 * `npm run bench:history`: what years of history in the state store cost the commands that run
 * on every cron tick.
 *
 * Two state stores, each in a database of its own that the bench creates and drops: a young one
 * (1 account, 2 days) and a history one (200 accounts, 3 years: about 650,000 export ledger rows,
 * the run log of an hourly cron per account, about 5.3M rows, and the rest; `history-data.ts`).
 * The config names the same account in both. Alternately on each, the built CLI (a child
 * process) runs `plan`, `status`, `sync` with nothing due, and a `sync` of one explicit hour of
 * copilot_kb against the simulator (quota no limit there); medians of --runs runs.
 *
 * It prints each command's median on both stores and the ratio history/young, the sequential
 * scans of tables over 10,000 rows those commands made (pg_stat_user_tables), and the plan of
 * every statement the commands sent (recorded in one more run of each, EXPLAINed against the
 * history store). The last line: `history_ratio_max=<n> seq_scans_of_large_tables=<n>
 * explain_seq_scans_of_large_tables=<n>`.
 *
 * Options: --runs N (5), --accounts N (200), --days N (1095), --keep (leave the databases).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { stringify } from 'yaml';
import { startSimulator } from '../simulator/simulator-server.js';
import { table } from '../src/cli/output.js';
import { benchDatabaseUrl, flag, median, opt, type ProcessRun, run } from './bench-process.js';
import { generateHistory, type HistoryShape } from './history-data.js';
import { explainAll, readRecorded, shortText } from './query-plans.js';

const runs = Number(opt('runs', '5'));
const cliPath = new URL('../src/cli/main.js', import.meta.url).pathname;
const recorder = pathToFileURL(new URL('./query-recorder.js', import.meta.url).pathname).href;
const hourMs = 3_600_000;
/** A table is large past this many rows: a sequential scan of it grows with the history. */
const largeRows = 10_000;

interface Store {
  readonly label: 'young' | 'history';
  readonly name: string;
  readonly url: string;
  readonly shape: HistoryShape;
  config: string;
  windowConfig: string;
}

interface Command {
  readonly label: string;
  /** The CLI arguments of the i-th run (a window sync takes a window of its own each run). */
  argv(store: Store, i: number): string[];
  /** Whether the run did what the command is benched for (else the bench stops). */
  check(r: ProcessRun): string | undefined;
}

const now = new Date();
/** The i-th run's window: an hour three days ago, a different one each run. */
const windowOf = (i: number) => {
  const start = new Date(Math.floor(now.getTime() / hourMs) * hourMs - (72 - i) * hourMs);
  return ['--start', start.toISOString(), '--end', new Date(start.getTime() + hourMs).toISOString()];
};
const json = (r: ProcessRun) => {
  try {
    return JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    return {};
  }
};
const exitedZero = (r: ProcessRun) =>
  r.code === 0 ? undefined : `exited ${r.code}: ${r.stderr.slice(-1500)}${r.stdout.slice(-1500)}`;

const commands: Command[] = [
  { label: 'plan', argv: (s) => ['plan', '--config', s.config, '--json'], check: exitedZero },
  { label: 'status', argv: (s) => ['status', '--config', s.config, '--json'], check: exitedZero },
  {
    label: 'sync, nothing due',
    argv: (s) => ['sync', '--config', s.config, '--json'],
    check: (r) =>
      exitedZero(r) ??
      (json(r).exportsRequested === 0 ? undefined : `requested exports: ${r.stdout.slice(0, 1500)}`),
  },
  {
    label: 'sync, one 1-hour window',
    argv: (s, i) => ['sync', '--config', s.windowConfig, '--json', '--stream', 'copilot_kb', ...windowOf(i)],
    check: (r) =>
      exitedZero(r) ??
      (json(r).exportsRequested === 1 ? undefined : `no export requested: ${r.stdout.slice(0, 1500)}`),
  },
];

async function withAdmin<T>(fn: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: benchDatabaseUrl });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    return (await db.query<T>(text)).rows;
  } finally {
    await db.end();
  }
}

/** Sequential scans so far of each table over {@link largeRows} rows. */
async function largeSeqScans(url: string): Promise<Map<string, number>> {
  // Statistics of the ended CLI processes reach the shared counters when their backends exit.
  await new Promise((r) => setTimeout(r, 1500));
  const rows = await query<{ t: string; n: string }>(
    url,
    `select schemaname || '.' || relname as t, seq_scan as n from pg_stat_user_tables where n_live_tup > ${largeRows}`,
  );
  return new Map(rows.map((r) => [r.t, Number(r.n)]));
}

async function main() {
  const work = await mkdtemp(join(tmpdir(), 'cxone-history-bench-'));
  const sim = await startSimulator({ faults: { quota: 1_000_000 } });
  const stores: Store[] = (['young', 'history'] as const).map((label) => {
    const name = `cxone_bench_${label}_${process.pid}`;
    const u = new URL(benchDatabaseUrl);
    u.pathname = `/${name}`;
    const shape =
      label === 'young'
        ? { accounts: 1, days: 2, benchAccount: 'bench', now }
        : {
            accounts: Number(opt('accounts', '200')),
            days: Number(opt('days', '1095')),
            benchAccount: 'bench',
            now,
          };
    return { label, name, url: u.toString(), shape, config: '', windowConfig: '' };
  });
  try {
    for (const store of stores) {
      await withAdmin((a) => a.query(`create database ${store.name}`));
      const t0 = Date.now();
      const counts = await generateHistory(store.url, store.shape);
      console.log(
        `${store.label} store (${store.shape.accounts} account(s), ${store.shape.days} days) made in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${Object.entries(
          counts,
        )
          .map(([t, n]) => `${t}=${n}`)
          .join(' ')}`,
      );
      const account = {
        name: 'bench',
        authUrl: sim.authUrl,
        apiBase: sim.apiBase,
        ...sim.credentials,
        exportsPer24h: 3,
        pollIntervalSeconds: 0.05,
      };
      const config = {
        account,
        archive: { dir: join(work, store.label, 'archive'), keepDays: 30 },
        destination: { type: 'postgres', url: store.url, schema: 'cxone' },
      };
      store.config = join(work, `${store.label}.yaml`);
      store.windowConfig = join(work, `${store.label}-window.yaml`);
      await writeFile(store.config, stringify(config));
      // An explicit window is served when a slot is free: the quota is no limit for it here.
      await writeFile(
        store.windowConfig,
        stringify({ ...config, account: { ...account, exportsPer24h: 1000 } }),
      );
      const m = await cli(['migrate', '--config', store.config, '--json']);
      if (m.code !== 0) throw new Error(`migrate exited ${m.code}: ${m.stderr}`);
    }
    const times = new Map<string, Map<string, number[]>>();
    const before = new Map<string, Map<string, number>>();
    for (const store of stores) before.set(store.label, await largeSeqScans(store.url));
    for (const c of commands) {
      const byStore = new Map<string, number[]>(stores.map((s) => [s.label, []]));
      times.set(c.label, byStore);
      // One run of each first (not timed): caches warm, the same on both stores.
      for (let i = -1; i < runs; i++) {
        for (const store of stores) {
          const r = await cli(c.argv(store, i + 1));
          const problem = c.check(r);
          if (problem) throw new Error(`${c.label} on the ${store.label} store: ${problem}`);
          if (i >= 0) byStore.get(store.label)!.push(r.ms);
        }
      }
    }
    const seqScans = new Map<string, number>();
    for (const store of stores) {
      const after = await largeSeqScans(store.url);
      for (const [t, n] of after) {
        const d = n - (before.get(store.label)!.get(t) ?? 0);
        if (d > 0) seqScans.set(`${store.label}:${t}`, d);
      }
    }

    const rows = [['command', 'young ms', 'history ms', 'history/young', 'young min-max', 'history min-max']];
    const range = (xs: readonly number[]) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;
    let ratioMax = 0;
    for (const [label, byStore] of times) {
      const young = median(byStore.get('young')!);
      const history = median(byStore.get('history')!);
      ratioMax = Math.max(ratioMax, history / young);
      rows.push([
        label,
        young.toFixed(0),
        history.toFixed(0),
        (history / young).toFixed(2),
        range(byStore.get('young')!),
        range(byStore.get('history')!),
      ]);
    }
    console.log(`\nmedians of ${runs} runs (the built CLI, a process each):`);
    console.log(table(rows));
    const seqTotal = [...seqScans.values()].reduce((a, b) => a + b, 0);
    console.log(
      `sequential scans of tables over ${largeRows} rows during those runs: ${
        seqTotal ? [...seqScans].map(([t, n]) => `${t}=${n}`).join(' ') : 'none'
      }`,
    );

    const explained = await explainHistory(stores.find((s) => s.label === 'history')!, work);
    console.log(`\n${table([['statement (as sent, parameters bound)', 'reads'], ...explained.rows])}`);
    console.log(
      `history_ratio_max=${ratioMax.toFixed(2)} seq_scans_of_large_tables=${seqTotal} explain_seq_scans_of_large_tables=${explained.largeSeq}`,
    );
  } finally {
    await sim.close();
    if (!flag('keep'))
      await withAdmin(async (a) => {
        for (const s of stores) await a.query(`drop database if exists ${s.name} with (force)`);
      });
    else console.log(`kept: ${stores.map((s) => s.url).join(' ')}`);
    await rm(work, { recursive: true, force: true });
  }
}

/** One more run of each command on the history store, its statements recorded and EXPLAINed. */
async function explainHistory(store: Store, work: string): Promise<{ rows: string[][]; largeSeq: number }> {
  const log = join(work, 'queries.jsonl');
  for (const c of commands) {
    const r = await cli(c.argv(store, runs + 1), { BENCH_QUERY_LOG: log }, ['--import', recorder]);
    const problem = c.check(r);
    if (problem) throw new Error(`${c.label} (recorded) on the history store: ${problem}`);
  }
  const db = new pg.Client({ connectionString: store.url });
  await db.connect();
  try {
    const explained = await explainAll(db, await readRecorded(log));
    let largeSeq = 0;
    const rows = explained.map((q) => {
      const reads = q.scans.map((s) => {
        const large = s.via === 'seq' && s.rows > largeRows;
        if (large) largeSeq++;
        return `${s.table.replace(/^cxone_od_sync\./, '')} ${s.via === 'seq' ? `SEQ SCAN (${s.rows} rows)${large ? ' !' : ''}` : `by ${s.via}`}`;
      });
      return [shortText(q.text), reads.join(', ') || '-'];
    });
    return { rows, largeSeq };
  } finally {
    await db.end();
  }
}

function cli(argv: string[], env: NodeJS.ProcessEnv = {}, node: string[] = []): Promise<ProcessRun> {
  return run(process.execPath, [...node, cliPath, ...argv], { CXONE_OD_SYNC_LOG_LEVEL: 'warn', ...env });
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
