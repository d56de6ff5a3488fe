import { rm } from 'node:fs/promises';
import { afterAll, afterEach } from 'vitest';
import {
  type CliResult,
  createWorkspace,
  type RunOptions,
  runCli,
  simEnv,
  type Workspace,
} from './cli-harness.js';
import type { RunningSimulator, SimulatorOptions } from './simulator.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export interface E2eOptions {
  /** The simulator's faults and data. */
  readonly sim?: SimulatorOptions;
  /** Written as the config (over the workspace's base: simulator account, archive, `db`). */
  readonly config?: Record<string, unknown>;
}

/**
 * One end-to-end setting: a fresh database, a simulator over real HTTP, and a workspace (a temp
 * directory with a config file pointing at both) for the built CLI.
 */
export interface E2eFixture {
  readonly db: TestDatabase;
  readonly ws: Workspace;
  readonly sim: RunningSimulator;
  /** The environment the config's `${SIM_...}` secrets come from. */
  readonly env: NodeJS.ProcessEnv;
  /** Runs the CLI in the workspace with `--config <the config>` and the simulator's secrets added. */
  cli(args: string[], options?: RunOptions): Promise<CliResult>;
  /** Another fresh database, dropped with the fixture. */
  createDatabase(): Promise<TestDatabase>;
  /** Runs `cleanup` at teardown, before the fixture's own (last registered, first run). */
  defer(cleanup: () => Promise<void>): void;
  /** Stops the simulator, drops the databases and removes the workspace. */
  teardown(): Promise<void>;
}

export async function startE2e(options: E2eOptions = {}): Promise<E2eFixture> {
  const cleanups: (() => Promise<void>)[] = [];
  const teardown = async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  };
  try {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const ws = await createWorkspace(db, options.sim);
    cleanups.push(
      () => rm(ws.dir, { recursive: true, force: true }),
      () => ws.sim.close(),
    );
    if (options.config) await ws.writeConfig(options.config);
    const env = simEnv(ws.sim);
    return {
      db,
      ws,
      sim: ws.sim,
      env,
      cli: (args, run = {}) =>
        runCli([...args, '--config', ws.configPath], { cwd: ws.dir, ...run, env: { ...env, ...run.env } }),
      async createDatabase() {
        const other = await createTestDatabase();
        cleanups.push(() => other.drop());
        return other;
      },
      defer: (cleanup) => {
        cleanups.push(cleanup);
      },
      teardown,
    };
  } catch (err) {
    await teardown();
    throw err;
  }
}

/**
 * Starts fixtures for the enclosing `describe` and tears every one down after each test
 * (`each`) or after the block (`all`). Call it in the `describe` body.
 */
export function e2eFixtures(after: 'each' | 'all' = 'each'): (options?: E2eOptions) => Promise<E2eFixture> {
  const started: E2eFixture[] = [];
  (after === 'each' ? afterEach : afterAll)(async () => {
    for (const f of started.splice(0).reverse()) await f.teardown();
  });
  return async (options) => {
    const f = await startE2e(options);
    started.push(f);
    return f;
  };
}

/** The last whole UTC day before yesterday's midnight: an explicit window that has settled. */
export function yesterdayWindow(): { start: Date; end: Date } {
  const end = new Date(Date.now() - 86_400_000);
  end.setUTCHours(0, 0, 0, 0);
  return { start: new Date(end.getTime() - 86_400_000), end };
}

/** `--start`/`--end` for {@link yesterdayWindow}. */
export function yesterdayWindowArgs(): string[] {
  const w = yesterdayWindow();
  return ['--start', w.start.toISOString(), '--end', w.end.toISOString()];
}
