import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../support/simulator.js';

// Regression test for undici's `assert(!this.paused)` (nodejs/undici#5360): a server that closes
// the connection right after the body, while the client's file write applies backpressure,
// crashed the whole process with an uncatchable AssertionError. The downloads run in a child
// process (the built client, test/support/download-repeatedly.mjs) so that a crash is seen as
// that process dying, and so that its busy thread pool slows its file writes and not the server.

const day = 86_400_000;
const row = 'a,b,c,0123456789012345678901234567890123456789012345678901234567890123456789\r\n';
const child = resolve(import.meta.dirname, '../support/download-repeatedly.mjs');

describe('download from a server that closes right after the body', () => {
  let dir: string;
  let sim: RunningSimulator;
  let content: Buffer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'download-close-'));
    const csv = join(dir, 'big.csv');
    await writeFile(csv, `h1,h2,h3,h4\r\n${row.repeat(40_000)}`);
    content = await readFile(csv);
    sim = await startSimulator({
      staticFiles: { copilot_kb: csv },
      faults: { closeAfterBody: true, downloadChunkBytes: 4096 },
    });
  });
  afterAll(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('downloads a 3 MB file whole 30 times under backpressure, and the process survives', async () => {
    const url = await downloadUrlOf(sim);
    const count = 30;
    const { code, signal, stdout, stderr } = await run([
      sim.apiBase,
      sim.authUrl,
      JSON.stringify(sim.credentials),
      url,
      dir,
      String(count),
    ]);
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    const sha256 = createHash('sha256').update(content).digest('hex');
    const results = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    const host = new URL(sim.downloadBase).host;
    expect(results).toEqual(
      Array.from({ length: count }, () => ({ bytes: content.length, sha256, host, fileSha256: sha256 })),
    );
    expect(sim.stats.downloads).toBe(count);
    expect(sim.stats.downloadsClosedAfterBody).toBeGreaterThan(0);
  });
});

/** A signed download URL of one export, got over HTTP as the client would. */
async function downloadUrlOf(s: RunningSimulator): Promise<string> {
  const c = s.credentials;
  const form = new URLSearchParams({
    grant_type: 'password',
    client_id: c.clientId,
    client_secret: c.clientSecret,
    username: c.accessKey,
    password: c.accessSecret,
  });
  const tokenRes = await fetch(s.authUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  const auth = `Bearer ${((await tokenRes.json()) as { access_token: string }).access_token}`;
  const now = Date.now();
  const exported = await fetch(`${s.apiBase}/observabilitydashboard/v2/tables/Copilot/KBTable/export-data`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({
      dateRange: {
        startDate: new Date(now - 2 * day).toISOString(),
        endDate: new Date(now - day).toISOString(),
      },
      timeZone: 'UTC',
    }),
  });
  const location = exported.headers.get('location')!;
  const statusRes = await fetch(new URL(location, s.apiBase), { headers: { authorization: auth } });
  return ((await statusRes.json()) as { downloadUrl: string }).downloadUrl;
}

function run(
  args: string[],
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    p.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    p.on('error', reject);
    p.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}
