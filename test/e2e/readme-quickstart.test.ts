import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { cliPath, runCli } from '../support/cli-harness.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
const heading = '## Quickstart against the built-in simulator';
const cli = 'node dist/src/cli/main.js';

interface Block {
  lang: string;
  lines: string[];
}

/** The fenced blocks of the README section under `title`, in order. */
function sectionBlocks(text: string, title: string): Block[] {
  const start = text.indexOf(`\n${title}\n`);
  if (start < 0) throw new Error(`README has no "${title}" section`);
  const rest = text.slice(start + title.length + 2);
  const end = rest.search(/^## /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    lang: m[1]!,
    lines: m[2]!.replace(/\\\n\s*/g, ' ').split('\n'),
  }));
}

/** A shell line without its comment, and the comment. */
function splitComment(line: string): { code: string; comment: string } {
  const i = line.indexOf(' #');
  return i < 0
    ? { code: line.trim(), comment: '' }
    : { code: line.slice(0, i).trim(), comment: line.slice(i + 2).trim() };
}

interface Simulator {
  child: ChildProcess;
  apiPort: number;
  credentials: Record<string, string>;
}

/**
 * Runs the README's `simulate` line with the built CLI, its ports replaced by 0 (any free port),
 * and reads the URLs and credentials it prints.
 */
function startSimulate(args: string[]): Promise<Simulator> {
  const free = args.map((a, i) => (args[i - 1] === '--port' || args[i - 1] === '--download-port' ? '0' : a));
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath, ...free], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`simulate exited ${code} before it listened: ${out}`)));
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const api = /apiBase http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      const creds =
        /credentials: clientId (\S+)\s+clientSecret (\S+)\s+accessKey (\S+)\s+accessSecret (\S+)/.exec(out);
      if (api && creds) {
        child.removeAllListeners('exit');
        resolvePromise({
          child,
          apiPort: Number(api[1]),
          credentials: {
            CXONE_CLIENT_ID: creds[1]!,
            CXONE_CLIENT_SECRET: creds[2]!,
            CXONE_ACCESS_KEY: creds[3]!,
            CXONE_ACCESS_SECRET: creds[4]!,
          },
        });
      }
    });
  });
}

describe('README: the quickstart against the built-in simulator (e2e)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('runs line by line as written: each command exits as its comment says, and sync loads rows', async () => {
    const blocks = sectionBlocks(readme, heading);
    expect(blocks.map((b) => b.lang)).toEqual(['bash', 'bash', 'yaml', 'bash']);
    const db: TestDatabase = await createTestDatabase('cxone_readme');
    cleanups.push(() => db.drop());
    const dir = await mkdtemp(join(tmpdir(), 'cxone-readme-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));

    // The archive goes where the README's config puts it (its default, under the directory).
    const env: NodeJS.ProcessEnv = { CXONE_OD_SYNC_ARCHIVE_DIR: '' };
    let sim: Simulator | undefined;
    let config: string | undefined;
    const ran: { command: string; expected: number; code: number | null }[] = [];

    for (const block of blocks) {
      if (block.lang === 'yaml') {
        // "Save this as cxone-od-sync.yaml": the simulator's port as it was given one.
        expect(sim, 'the simulator starts before the config').toBeDefined();
        config = block.lines.join('\n').replaceAll('127.0.0.1:8080', `127.0.0.1:${sim!.apiPort}`);
        const doc = parseYaml(config) as { destination: Record<string, unknown> };
        // The embedded PGlite fallback takes no COPY FROM STDIN (see test-database.ts).
        if (!db.copy) doc.destination.copy = false;
        await writeFile(join(dir, 'cxone-od-sync.yaml'), stringify(doc));
        continue;
      }
      for (const line of block.lines) {
        const { code, comment } = splitComment(line);
        if (code === '') continue;
        if (code === 'npm ci && npm run build') continue; // the suite's pretest built dist/
        const exported = /^export (.+)$/.exec(code);
        if (exported) {
          for (const pair of exported[1]!.split(/\s+/)) {
            const eq = pair.indexOf('=');
            env[pair.slice(0, eq)] = pair.slice(eq + 1);
          }
          // The reader's database is the test's fresh one.
          if ('DATABASE_URL' in env) env.DATABASE_URL = db.url;
          continue;
        }
        expect(code.startsWith(`${cli} `), `a README line this test cannot run: ${line}`).toBe(true);
        const args = code.slice(cli.length + 1).split(/\s+/);
        if (args[0] === 'simulate') {
          sim = await startSimulate(args);
          const child = sim.child;
          cleanups.push(async () => {
            if (child.exitCode !== null) return;
            const exited = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await exited;
          });
          continue;
        }
        const expected = /^(\d+):/.exec(comment);
        expect(expected, `no "# N: ..." exit code in the README line: ${line}`).not.toBeNull();
        expect(config, 'the config is written before the commands').toBeDefined();
        const r = await runCli(args, { cwd: dir, env });
        ran.push({ command: args[0]!, expected: Number(expected![1]), code: r.code });
        expect(r.code, `${code}\n${r.stdout}\n${r.stderr}`).toBe(Number(expected![1]));
      }
    }

    // The README's credentials are the ones the simulator prints.
    for (const [name, value] of Object.entries(sim!.credentials)) expect(env[name], name).toBe(value);
    expect(ran.map((r) => r.command)).toEqual(['migrate', 'check', 'plan', 'sync', 'status']);

    // After sync: three streams loaded (rows in their tables), the fourth deferred (its table, empty).
    const counts = await db.query<{ stream: string; n: string }>(
      `select 'copilot_kb' as stream, count(*) as n from cxone.copilot_kb
       union all select 'copilot_as', count(*) from cxone.copilot_as
       union all select 'copilot_aq', count(*) from cxone.copilot_aq
       union all select 'autopilot_gr', count(*) from cxone.autopilot_gr`,
    );
    const loaded = counts.filter((c) => Number(c.n) > 0);
    expect(loaded, JSON.stringify(counts)).toHaveLength(3);
    for (const c of loaded) expect(Number(c.n)).toBeGreaterThan(1000);
    const ledger = await db.query<{ status: string }>('select status from cxone_od_sync.exports');
    expect(ledger.map((r) => r.status)).toEqual(['loaded', 'loaded', 'loaded']);
  });
});
