import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { cliPath } from '../support/cli-harness.js';

/** Runs the built CLI; SIGKILLs it should it start serving (its first output on stdout). */
function run(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (args[0] === 'simulate' && child.exitCode === null) child.kill('SIGKILL');
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Issue 27, item 7: the global `--account` was accepted and ignored by the commands that work on
 * no account of the config. Each refuses it now with a usage error (exit 2) saying why, before
 * doing anything (`simulate` serves nothing, `demo` syncs nothing).
 */
describe('--account on a command that takes none (e2e)', () => {
  let dir: string;
  let config: string;
  let csv: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cxone-account-option-'));
    config = join(dir, 'cxone-od-sync.yaml');
    csv = join(dir, 'export.csv');
    const account = (n: number) => ({
      authUrl: `http://127.0.0.1:${n}/auth/token`,
      apiBase: `http://127.0.0.1:${n}`,
      clientId: `client-${n}`,
      clientSecret: `secret-${n}`,
      accessKey: `KEY${n}==`,
      accessSecret: `access-${n}`,
    });
    // A config that dbt-sources reads whole (it reaches no server): two accounts, one destination.
    await writeFile(
      config,
      stringify({
        accounts: { east: account(1), west: account(2) },
        archive: { dir: join(dir, 'archive') },
        destination: { type: 'postgres', url: 'postgres://nobody@127.0.0.1:1/none', schema: 'cxone' },
        streams: { copilot_kb: {} },
      }),
    );
    await writeFile(csv, 'Interaction Time,Suggestion ID\r\n2026-11-10 10:00:00,s1\r\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each([
    ['streams', [], 'it lists the stream schemas built into the connector'],
    ['infer-schema', ['export.csv'], 'it reads the file it is given and no config'],
    ['simulate', ['--port', '0'], '--accounts N serves N simulated accounts'],
    ['demo', ['--days', '1'], 'it syncs a simulated account of its own'],
    ['dbt-sources', ['--config', 'cxone-od-sync.yaml'], 'which hold the rows of every account of the config'],
  ])('%s refuses --account with a usage error saying why', async (command, args, why) => {
    const r = await run([command, ...args, '--account', 'east'], dir);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${command} takes no --account: `);
    expect(r.stderr).toContain(why);
  });

  it('still runs those commands without --account', async () => {
    const streams = await run(['streams', '--json'], dir);
    expect(streams.code, streams.stderr).toBe(0);
    const dbt = await run(['dbt-sources', '--config', 'cxone-od-sync.yaml', '--json'], dir);
    expect(dbt.code, dbt.stderr).toBe(0);
    expect(JSON.parse(dbt.stdout).sources[0].config.meta.cxone_od_sync.accounts).toHaveProperty('west');
  });
});
