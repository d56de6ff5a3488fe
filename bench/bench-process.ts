/**
 * What the benches share: a child process run with its wall time, output and peak RSS, and the
 * median of a series.
 */
import { readFile } from 'node:fs/promises';
import { runProcess } from '../test/support/run-process.js';

/** A finished child process: wall time, peak RSS (VmHWM, sampled every 50 ms), exit code, output. */
export interface ProcessRun {
  readonly ms: number;
  readonly peakKb: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cmd argv` with `env` over the bench's own environment, to its end. */
export async function run(cmd: string, argv: string[], env: NodeJS.ProcessEnv = {}): Promise<ProcessRun> {
  const t0 = process.hrtime.bigint();
  let peakKb = 0;
  let poll: NodeJS.Timeout | undefined;
  const r = await runProcess(cmd, argv, {
    env: { ...process.env, ...env },
    onSpawn: (child) => {
      poll = setInterval(async () => {
        try {
          const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
          const m = /VmHWM:\s+(\d+)/.exec(status);
          if (m) peakKb = Math.max(peakKb, Number(m[1]));
        } catch {
          // exited
        }
      }, 50);
    },
  }).finally(() => clearInterval(poll));
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, peakKb, ...r };
}

/** The bench's command line: `--name` given, and `--name VALUE` (else `def`). */
const args = process.argv.slice(2);
export const flag = (name: string): boolean => args.includes(`--${name}`);
export const opt = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : def;
};

/** The PostgreSQL server the benches create their databases on. */
export const benchDatabaseUrl =
  process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** The median of a non-empty series. */
export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
