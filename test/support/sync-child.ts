import { spawn } from 'node:child_process';
import { cliPath } from './cli-harness.js';
import type { E2eFixture } from './e2e-fixture.js';

/** A CLI process the test can signal and watch: its output so far, and how it ended. */
export interface CliChild {
  readonly child: ReturnType<typeof spawn>;
  readonly out: { stdout: string; stderr: string; ended: boolean };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the built CLI with `args` (and `--config`) in the fixture's workspace, `env` added. */
export function spawnCli(f: E2eFixture, args: readonly string[], env: NodeJS.ProcessEnv = {}): CliChild {
  const child = spawn(process.execPath, [cliPath, ...args, '--config', f.ws.configPath], {
    cwd: f.ws.dir,
    env: { ...process.env, ...f.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '', ended: false };
  child.stdout.on('data', (c: Buffer) => {
    out.stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    out.stderr += c.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      out.ended = true;
      resolve({ code, signal });
    }),
  );
  return { child, out, exited };
}
