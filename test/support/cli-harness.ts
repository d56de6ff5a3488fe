import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { type RunningSimulator, type SimulatorOptions, startSimulator } from './simulator.js';

export const cliPath = resolve(import.meta.dirname, '../../dist/src/cli/main.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests walk the CLI's JSON summary freely
  json: any;
}

export interface RunOptions {
  cwd?: string;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** SIGKILLs the child once this returns true for its stderr so far. */
  killWhen?: (stderr: string) => boolean;
  onStderr?: (stderr: string) => void;
}

/** Runs the built CLI as a child process (the way users and Airflow run it). */
export function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killing = false;
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      options.onStderr?.(stderr);
      if (!killing && options.killWhen?.(stderr)) {
        killing = true;
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolvePromise({ code, signal, stdout, stderr, json });
    });
  });
}

export interface Workspace {
  dir: string;
  configPath: string;
  sim: RunningSimulator;
  writeConfig(patch?: Record<string, unknown>): Promise<void>;
}

/** A temp directory, a running simulator and a config file pointing at both and at `dbUrl`. */
export async function createWorkspace(
  db: { url: string; copy: boolean },
  simOptions: SimulatorOptions = {},
  base: Record<string, unknown> = {},
): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'cxone-e2e-'));
  const sim = await startSimulator(simOptions);
  const configPath = join(dir, 'cxone-od-sync.yaml');
  const ws: Workspace = {
    dir,
    configPath,
    sim,
    async writeConfig(patch = {}) {
      const account = {
        name: 'e2e',
        authUrl: sim.authUrl,
        apiBase: sim.apiBase,
        clientId: sim.credentials.clientId,
        clientSecret: '${SIM_CLIENT_SECRET}',
        accessKey: sim.credentials.accessKey,
        accessSecret: '${SIM_ACCESS_SECRET}',
        pollIntervalSeconds: 0.05,
        pollMaxIntervalSeconds: 0.2,
        httpRetryBaseMs: 20,
        ...((base.account as object) ?? {}),
        ...((patch.account as object) ?? {}),
      };
      const cfg = {
        archive: { dir: join(dir, 'archive'), keepDays: 30 },
        destination: { type: 'postgres', url: db.url, schema: 'cxone', copy: db.copy },
        ...base,
        ...patch,
        account,
      };
      await writeFile(configPath, stringify(cfg));
    },
  };
  await ws.writeConfig();
  return ws;
}

export const simEnv = (sim: RunningSimulator): NodeJS.ProcessEnv => ({
  SIM_CLIENT_SECRET: sim.credentials.clientSecret,
  SIM_ACCESS_SECRET: sim.credentials.accessSecret,
});
