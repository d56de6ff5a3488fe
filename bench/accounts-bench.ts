/**
 * `npm run bench:accounts`: many CXone accounts against one state store, the scale test of
 * many-account deployments (not a timed test: it prints, it asserts only correctness).
 *
 * N simulated accounts (default 20), each its own simulator with its own credentials, quota
 * (3 a day) and seeded data, four streams each, into one fresh PostgreSQL database that is both
 * destination and state store. Two ways, each on a fresh database:
 *
 * - `one process`: one `sync` of a config with every account (`parallelAccounts`, default 4);
 * - `N processes`: N concurrent `sync --account K` processes of the same config, as N mapped
 *   orchestrator tasks would run.
 *
 * For each it checks that no window of an account and stream was requested twice, that no
 * account went over its quota (its simulator refused nothing, its ledger shows at most 3), and
 * that every loaded table holds exactly each account's generated rows, told apart by `_account`.
 * It prints the wall time, the state store's peak connection count (pg_stat_activity, sampled
 * every 10 ms) and the transactions per account (pg_stat_database.xact_commit + xact_rollback).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { streamSchemas } from '../schemas/index.js';
import {
  accountsConfig,
  type SimulatedAccount,
  startAccountSimulators,
} from '../simulator/account-simulators.js';
import { generateRows } from '../simulator/simulator-data.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : def;
};
const count = Number(opt('accounts', '20'));
const parallelAccounts = Number(opt('parallel-accounts', '4'));
const adminUrl =
  process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const cliPath = new URL('../src/cli/main.js', import.meta.url).pathname;
const quota = 3;

interface RunResult {
  readonly label: string;
  readonly wallMs: number;
  readonly exitCodes: number[];
  readonly peakConnections: number;
  readonly transactions: number;
  readonly exports: number;
  readonly rows: number;
}

function runCli(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...argv], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 && code !== 75)
        process.stderr.write(`sync ${argv.join(' ')} exited ${code}:\n${stderr}\n`);
      resolve(code ?? -1);
    });
  });
}

async function withDatabase<T>(fn: (url: string, name: string) => Promise<T>): Promise<T> {
  const name = `cxone_bench_accounts_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString(), name);
  } finally {
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
  }
}

async function oneRun(
  label: string,
  accounts: readonly SimulatedAccount[],
  run: (configPath: string) => Promise<number[]>,
): Promise<RunResult> {
  return withDatabase(async (url, name) => {
    const dir = await mkdtemp(join(tmpdir(), 'cxone-bench-accounts-'));
    const start = new Date(Date.now() - 86_400_000);
    start.setUTCHours(0, 0, 0, 0);
    const configPath = join(dir, 'cxone-od-sync.yaml');
    await writeFile(
      configPath,
      stringify({
        accounts: accountsConfig(accounts, { pollIntervalSeconds: 0.05, pollMaxIntervalSeconds: 0.2 }),
        parallelAccounts,
        archive: { dir: join(dir, 'archive') },
        destination: { type: 'postgres', url, schema: 'cxone' },
        streams: Object.fromEntries(streamSchemas.map((s) => [s.name, { start: start.toISOString() }])),
      }),
    );
    const watcher = new pg.Client({ connectionString: adminUrl });
    await watcher.connect();
    const stat = async () =>
      (
        await watcher.query<{ n: string }>(
          'select xact_commit + xact_rollback as n from pg_stat_database where datname = $1',
          [name],
        )
      ).rows[0]?.n;
    await watcher.query('select pg_stat_clear_snapshot()');
    const xactBefore = Number((await stat()) ?? 0);
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const r = await watcher.query<{ n: number }>(
          'select count(*)::int as n from pg_stat_activity where datname = $1',
          [name],
        );
        peak = Math.max(peak, r.rows[0]!.n);
        await new Promise((res) => setTimeout(res, 10));
      }
    })();
    const before = accounts.map((a) => a.sim.stats.exportRequests.length);
    const t0 = performance.now();
    const exitCodes = await run(configPath);
    const wallMs = performance.now() - t0;
    sampling = false;
    await sampler;
    // The statistics collector reports a closed session's counts shortly after it ends.
    await new Promise((res) => setTimeout(res, 700));
    await watcher.query('select pg_stat_clear_snapshot()');
    const transactions = Number((await stat()) ?? 0) - xactBefore;
    await watcher.end();

    const db = new pg.Client({ connectionString: url });
    await db.connect();
    let rows = 0;
    let exports = 0;
    try {
      for (const [i, { key, sim }] of accounts.entries()) {
        const requested = sim.stats.exportRequests.slice(before[i]);
        exports += requested.length;
        const windows = new Set(requested.map((r) => `${r.stream} ${r.startDate} ${r.endDate}`));
        if (windows.size !== requested.length) throw new Error(`${label}: ${key} requested a window twice`);
        if (requested.length > quota)
          throw new Error(`${label}: ${key} requested ${requested.length} > ${quota}`);
        if (sim.stats.rejectedExportRequests.length)
          throw new Error(
            `${label}: ${key}'s API refused ${sim.stats.rejectedExportRequests.length} request(s)`,
          );
        for (const schema of streamSchemas) {
          const loaded = await db.query<{ window_start: Date; window_end: Date }>(
            `select window_start, window_end from cxone_od_sync.exports
              where account = $1 and stream = $2 and status = 'loaded' order by window_start`,
            [key, schema.name],
          );
          const expected = loaded.rows.reduce(
            (n, w) =>
              n +
              [
                ...generateRows(schema.name, w.window_start, new Date(w.window_end.getTime() - 1), {
                  seed: 42 + i + 1,
                }),
              ].length,
            0,
          );
          const table = await db
            .query<{ n: string }>(`select count(*) as n from cxone.${schema.name} where _account = $1`, [key])
            .catch(() => ({ rows: [{ n: '0' }] }));
          const actual = Number(table.rows[0]!.n);
          if (actual !== expected)
            throw new Error(
              `${label}: ${key} ${schema.name} holds ${actual} rows, its API served ${expected}`,
            );
          rows += actual;
        }
      }
    } finally {
      await db.end();
      await rm(dir, { recursive: true, force: true });
    }
    return { label, wallMs, exitCodes, peakConnections: peak, transactions, exports, rows };
  });
}

async function main(): Promise<void> {
  const results: RunResult[] = [];
  for (const mode of ['one process', `${count} processes`] as const) {
    // Fresh simulators for each mode: each account's quota starts unspent.
    const accounts = await startAccountSimulators(count, { faults: { quota } });
    try {
      results.push(
        await oneRun(mode, accounts, async (configPath) =>
          mode === 'one process'
            ? [await runCli(['sync', '--json', '--config', configPath], {})]
            : Promise.all(
                accounts.map((a) =>
                  runCli(['sync', '--json', '--config', configPath, '--account', a.key], {}),
                ),
              ),
        ),
      );
    } finally {
      await Promise.all(accounts.map((a) => a.sim.close()));
    }
  }
  const line = (cells: (string | number)[]) => cells.map((c) => String(c).padEnd(16)).join('');
  console.log(
    `${count} accounts x ${streamSchemas.length} streams, quota ${quota} a day each, parallelAccounts ${parallelAccounts}; checks passed: no window requested twice, no quota exceeded, rows exact`,
  );
  console.log(line(['mode', 'wall s', 'exit codes', 'exports', 'rows', 'peak conns', 'xacts/account']));
  for (const r of results) {
    const codes = [...new Set(r.exitCodes)].sort().join(',');
    console.log(
      line([
        r.label,
        (r.wallMs / 1000).toFixed(1),
        codes,
        r.exports,
        r.rows,
        r.peakConnections,
        (r.transactions / count).toFixed(0),
      ]),
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
