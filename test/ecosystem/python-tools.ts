import { join } from 'node:path';
import { inject } from 'vitest';
import { type ProcessResult, runProcess } from '../support/run-process.js';

export const ecosystemDir = import.meta.dirname;

export type ToolResult = ProcessResult;

/** The path of a program in the suite's virtual environment (`airflow`, `dbt`, `python`). */
export function venvBin(name: string): string {
  return join(inject('venv'), 'bin', name);
}

/**
 * Runs a program of the venv with exactly `env` (plus PATH and HOME): what the tools see is what
 * the test names, never the test process's own DATABASE_URL or OPENLINEAGE_* variables.
 */
export function runTool(
  name: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<ToolResult> {
  return runProcess(venvBin(name), args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', ...options.env },
  });
}

/** Runs one of this folder's Python scripts and parses the JSON of its last stdout line. */
export async function runPythonJson<T>(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<T> {
  const r = await runTool('python', [join(ecosystemDir, script), ...args], { env });
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.code !== 0 || !last.startsWith('{')) {
    throw new Error(`${script} exited ${r.code}:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  }
  return JSON.parse(last) as T;
}

/** What a failed tool run printed, for an assertion's message. */
export const tail = (r: ToolResult): string =>
  `exit ${r.code}\n${r.stdout.slice(-6000)}\n${r.stderr.slice(-3000)}`;
