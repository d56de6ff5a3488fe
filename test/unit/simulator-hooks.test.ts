import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type RunningSimulator,
  type SimulatorOptions,
  type SimulatorStats,
  startSimulator,
} from '../support/simulator.js';

// Every hook is driven over real HTTP, as the CLI subprocess tests will drive them.

const exportPath = '/observabilitydashboard/v2/tables/Copilot/KBTable/export-data';
const statusPath = (id: string) => `/observabilitydashboard/v2/tables/export-data/${id}/status?fileName=x`;
const waitOpts = { timeout: 10_000, interval: 10 };

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(options: SimulatorOptions): Promise<RunningSimulator> {
  sim = await startSimulator(options);
  return sim;
}

async function token(s: RunningSimulator): Promise<Response> {
  const c = s.credentials;
  const form = { grant_type: 'password', client_id: c.clientId, client_secret: c.clientSecret };
  return fetch(s.authUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...form, username: c.accessKey, password: c.accessSecret }).toString(),
  });
}

async function bearer(s: RunningSimulator): Promise<string> {
  const body = (await (await token(s)).json()) as { access_token: string };
  return `Bearer ${body.access_token}`;
}

function requestExport(s: RunningSimulator, auth: string, now = Date.now()): Promise<Response> {
  const day = 86_400_000;
  const dateRange = {
    startDate: new Date(now - 2 * day).toISOString(),
    endDate: new Date(now - day).toISOString(),
  };
  return fetch(`${s.apiBase}${exportPath}`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ dateRange, timeZone: 'UTC' }),
  });
}

function exportIdOf(res: Response): string {
  expect(res.status).toBe(202);
  const m = /export-data\/([^/]+)\/status/.exec(res.headers.get('location') ?? '');
  expect(m).not.toBeNull();
  return m![1]!;
}

function status(s: RunningSimulator, auth: string, id: string): Promise<Response> {
  return fetch(`${s.apiBase}${statusPath(id)}`, { headers: { authorization: auth } });
}

async function stats(s: RunningSimulator): Promise<SimulatorStats> {
  return (await (await fetch(`${s.apiBase}/_sim/stats`)).json()) as SimulatorStats;
}

async function control(s: RunningSimulator, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${s.apiBase}${path}`, { method: 'POST', body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return res.json();
}

/** Waits until the simulator holds `n` export answers (polling its stats, no fixed sleep). */
async function untilHeld(s: RunningSimulator, n: number): Promise<void> {
  await vi.waitFor(async () => expect((await stats(s)).heldExportRequests).toBe(n), waitOpts);
}

describe('holdExportRequests', () => {
  it('creates the export, holds its answer and releases it over POST /_sim/release', async () => {
    const s = await start({ faults: { holdExportRequests: true, quota: 10 } });
    const auth = await bearer(s);
    const pending = requestExport(s, auth);
    await untilHeld(s, 1);
    const during = await stats(s);
    expect(during.exportRequests).toHaveLength(1);
    expect(await control(s, '/_sim/release', {})).toEqual({ released: 1 });
    const id = exportIdOf(await pending);
    expect(id).toBe(during.exportRequests[0]!.id);
    expect((await stats(s)).heldExportRequests).toBe(0);
  });

  it('releases through the handle and when the fault is switched off; close destroys the rest', async () => {
    const s = await start({ faults: { holdExportRequests: true, quota: 10 } });
    const auth = await bearer(s);
    const first = requestExport(s, auth);
    await untilHeld(s, 1);
    expect(s.releaseHeld()).toBe(1);
    exportIdOf(await first);

    const second = requestExport(s, auth);
    const third = requestExport(s, auth);
    await untilHeld(s, 2);
    await control(s, '/_sim/faults', { holdExportRequests: false });
    exportIdOf(await second);
    exportIdOf(await third);
    expect(s.stats.heldExportRequests).toBe(0);

    s.setFaults({ holdExportRequests: true });
    const fourth = requestExport(s, auth).then(
      () => 'answered',
      (e: unknown) => e,
    );
    await untilHeld(s, 1);
    await s.close();
    sim = undefined;
    expect(await fourth).toBeInstanceOf(Error);
    expect(s.stats.exportRequests).toHaveLength(4);
    expect(s.stats.heldExportRequests).toBe(0);
  });
});

describe('dropExportAnswers', () => {
  it('creates the export, then destroys the connection before any answer byte', async () => {
    const s = await start({ faults: { dropExportAnswers: 1, quota: 10 } });
    const auth = await bearer(s);
    const err = await requestExport(s, auth).then(
      () => undefined,
      (e: unknown) => e as Error & { cause?: { code?: string } },
    );
    expect(err?.cause?.code).toBe('UND_ERR_SOCKET');
    const after = await stats(s);
    expect(after.exportRequests).toHaveLength(1);
    expect(after.droppedExportAnswers).toBe(1);
    exportIdOf(await requestExport(s, auth));
    expect((await stats(s)).exportRequests).toHaveLength(2);
  });
});

describe('forgetExports', () => {
  it('answers 404 on status for the listed ids, then for every export when true', async () => {
    const s = await start({ faults: { quota: 10 } });
    const auth = await bearer(s);
    const a = exportIdOf(await requestExport(s, auth));
    const b = exportIdOf(await requestExport(s, auth));
    expect((await status(s, auth, a)).status).toBe(200);
    s.setFaults({ forgetExports: [a] });
    for (let i = 0; i < 2; i++) {
      const res = await status(s, auth, a);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { message: string }).message).toBe(`Export ${a} not found`);
    }
    expect((await status(s, auth, b)).status).toBe(200);
    await control(s, '/_sim/faults', { forgetExports: true });
    expect((await status(s, auth, b)).status).toBe(404);
    expect((await stats(s)).statusRequestsById).toEqual({ [a]: 3, [b]: 2 });
  });
});

describe('closeAfterBody', () => {
  let dir: string;
  const row = 'a,b,c,0123456789012345678901234567890123456789012345678901234567890123456789\r\n';
  /** A CSV of `rows` rows (80 bytes each) and its bytes. */
  async function csvFile(rows: number): Promise<{ csv: string; content: Buffer }> {
    const csv = join(dir, `rows-${rows}.csv`);
    await writeFile(csv, `h1,h2,h3,h4\r\n${row.repeat(rows)}`);
    return { csv, content: await readFile(csv) };
  }
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-hooks-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function downloadUrlOf(s: RunningSimulator): Promise<string> {
    const auth = await bearer(s);
    const id = exportIdOf(await requestExport(s, auth));
    return ((await (await status(s, auth, id)).json()) as { downloadUrl: string }).downloadUrl;
  }

  it('sends a few MB whole in small writes, with Connection: close, then closes the socket', async () => {
    const { csv, content } = await csvFile(50_000);
    expect(content.length).toBeGreaterThan(3_000_000);
    const s = await start({
      staticFiles: { copilot_kb: csv },
      faults: { closeAfterBody: true, downloadChunkBytes: 4096 },
    });
    // A raw client that never closes: the connection ends only when the server closes it.
    const url = new URL(await downloadUrlOf(s));
    const socket = connect(Number(url.port), url.hostname);
    socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    await once(socket, 'end');
    socket.destroy();
    const answer = Buffer.concat(chunks);
    const split = answer.indexOf('\r\n\r\n');
    const head = answer.subarray(0, split).toString('latin1').toLowerCase();
    expect(head).toMatch(/^http\/1\.1 200/);
    expect(head).toContain('\r\nconnection: close');
    expect(head).toContain(`\r\ncontent-length: ${content.length}`);
    expect(answer.subarray(split + 4).equals(content)).toBe(true);
    expect(s.stats.downloadsClosedAfterBody).toBe(1);
  });

  it('closes while the client has not read the body yet (undici), and the body is still whole', async () => {
    // Small enough to fit the loopback socket buffers, so the server finishes while the client waits.
    const { csv, content } = await csvFile(3_000);
    const s = await start({ staticFiles: { copilot_kb: csv }, faults: { closeAfterBody: true } });
    const url = await downloadUrlOf(s);
    const res = await request(url);
    expect(res.statusCode).toBe(200);
    await vi.waitFor(async () => expect((await stats(s)).downloadsClosedAfterBody).toBe(1), waitOpts);
    expect(Buffer.from(await res.body.arrayBuffer()).equals(content)).toBe(true);
  });
});

describe('dateOffsetMs', () => {
  it("dates every answer from the simulator's clock, plus the offset", async () => {
    const now = Date.parse('2025-03-01T12:00:00Z');
    const s = await start({ now: () => now });
    const auth = await bearer(s);
    expect((await token(s)).headers.get('date')).toBe('Sat, 01 Mar 2025 12:00:00 GMT');
    await control(s, '/_sim/faults', { dateOffsetMs: 90_500 });
    const shifted = 'Sat, 01 Mar 2025 12:01:30 GMT';
    expect((await token(s)).headers.get('date')).toBe(shifted);
    const exported = await requestExport(s, auth, now);
    expect(exported.headers.get('date')).toBe(shifted);
    const done = await status(s, auth, exportIdOf(exported));
    expect(done.headers.get('date')).toBe(shifted);
    const dl = await fetch(((await done.json()) as { downloadUrl: string }).downloadUrl);
    expect(dl.headers.get('date')).toBe(shifted);
    await dl.arrayBuffer();
    const rejected = await fetch(`${s.apiBase}${exportPath}`, { method: 'POST' });
    expect(rejected.status).toBe(401);
    expect(rejected.headers.get('date')).toBe(shifted);
  });
});

describe('failNext token', () => {
  it('answers 503 with Retry-After N times, then issues a token', async () => {
    const s = await start({
      faults: { failNext: { kind: 'token', status: 503, count: 2, retryAfterSeconds: 1 } },
    });
    for (let i = 0; i < 2; i++) {
      const res = await token(s);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      await res.arrayBuffer();
    }
    expect((await token(s)).status).toBe(200);
    expect((await stats(s)).tokenRequests).toBe(3);
  });
});
