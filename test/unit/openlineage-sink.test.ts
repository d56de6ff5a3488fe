import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createOpenLineageObserver, type OpenLineageOptions } from '../../connectors/openlineage/index.js';
import { copilotAq } from '../../schemas/copilot-aq.js';
import { startLoadRun } from '../../src/load/lineage-run.js';
import { createLogger } from '../../src/log/logger.js';
import { registerSecret } from '../../src/log/redact.js';
import type { Destination } from '../../src/ports/destination.js';
import type { ExportApi } from '../../src/ports/export-api.js';
import type { ExportRecord } from '../../src/ports/export-record.js';
import type { LoadObserver, LoadRunStart } from '../../src/ports/lineage.js';
import { type LineageReceiver, refusedUrl, startLineageReceiver } from '../support/lineage-receiver.js';
import { openLineageProblems } from '../support/openlineage-schema.js';

const load: LoadRunStart = {
  account: 'prod',
  schema: copilotAq,
  apiPath: 'Copilot/AQTable',
  window: { start: new Date('2026-11-01T00:00:00Z'), end: new Date('2026-11-02T00:00:00Z') },
  ledgerId: '3',
  vendorExportId: 'vendor-3',
  bytes: 1234,
  input: { namespace: 'cxone://127.0.0.1:8080', name: 'prod.copilot_aq' },
  output: { namespace: 'postgres://127.0.0.1:5432', name: 'test.cxone.copilot_aq' },
};
const parentId = 'airflow/cxone_od_sync.sync_main/01890a5d-ac96-774b-bcce-b302099a8057';

describe('OpenLineage observer (transports, delivery, failure)', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function receiver(mode: 'ok' | 'error' | 'hang' = 'ok'): Promise<LineageReceiver> {
    const r = await startLineageReceiver(mode);
    cleanups.push(() => r.close());
    return r;
  }

  function observer(options: Partial<OpenLineageOptions>) {
    const logs: Record<string, unknown>[] = [];
    const log = createLogger({ format: 'json', level: 'debug', write: (l) => logs.push(JSON.parse(l)) });
    const o = createOpenLineageObserver(
      {
        endpoint: 'api/v1/lineage',
        namespace: 'cxone-od-sync',
        timeoutMs: 2_000,
        version: '9.9.9',
        ...options,
      },
      log,
    );
    return { o, logs, warnings: () => logs.filter((l) => l.level === 'warn').map((l) => String(l.msg)) };
  }

  it('posts START then COMPLETE (or FAIL) of each run to /api/v1/lineage with the bearer key, each valid', async () => {
    const r = await receiver();
    const { o, warnings } = observer({ url: r.url, apiKey: 'lineage-key-0001', parentId });
    const a = o.loadStarted(load);
    const b = o.loadStarted({ ...load, schema: { ...copilotAq, name: 'copilot_kb' } });
    a.completed({ rows: 10, rejected: 0, addedColumns: [] });
    b.failed('the destination refused the load');
    await o.close();
    expect(warnings()).toEqual([]);
    expect(r.requests.map((q) => [q.method, q.path, q.authorization])).toEqual(
      Array(4).fill(['POST', '/api/v1/lineage', 'Bearer lineage-key-0001']),
    );
    const events = r.events();
    for (const e of events) expect(openLineageProblems(e)).toEqual([]);
    const byRun = new Map<string, string[]>();
    for (const e of events as { run: { runId: string }; eventType: string }[])
      byRun.set(e.run.runId, [...(byRun.get(e.run.runId) ?? []), e.eventType]);
    expect([...byRun.values()].sort()).toEqual([
      ['START', 'COMPLETE'],
      ['START', 'FAIL'],
    ]);
    expect(events[0]).toMatchObject({
      run: { facets: { parent: { run: { runId: '01890a5d-ac96-774b-bcce-b302099a8057' } } } },
    });
  });

  it('writes every event as one JSON line to the file transport, alongside HTTP', async () => {
    const r = await receiver();
    const dir = await mkdtemp(join(tmpdir(), 'lineage-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'events', 'lineage.jsonl');
    const { o } = observer({ url: r.url, file });
    o.loadStarted(load).completed({ rows: 5, rejected: 1, addedColumns: [] });
    await o.close();
    const lines = (await readFile(file, 'utf8')).split('\n');
    expect(lines.at(-1)).toBe('');
    const events = lines.slice(0, -1).map((l) => JSON.parse(l));
    expect(events.map((e) => e.eventType)).toEqual(['START', 'COMPLETE']);
    expect(events).toEqual(r.events());
    for (const e of events) expect(openLineageProblems(e)).toEqual([]);
  });

  it.each([
    ['refuses connections', async () => refusedUrl()],
    ['answers 500', async () => (await receiver('error')).url],
    ['never answers', async () => (await receiver('hang')).url],
  ])(
    'goes on when the backend %s: the calls return at once, close gives up after the timeout, one warning',
    async (_what, url) => {
      const { o, warnings } = observer({ url: await url(), timeoutMs: 300 });
      const run = o.loadStarted(load);
      run.completed({ rows: 1, rejected: 0, addedColumns: [] });
      await o.close();
      expect(warnings()).toEqual([
        'lineage event not delivered; the sync goes on without it',
        'lineage events not delivered',
      ]);
    },
  );

  it('puts no secret in an event: the API key, a password in the URL and a secret in an error are not sent', async () => {
    const r = await receiver();
    registerSecret('lineage-secret-7781');
    registerSecret('db-password-5512');
    const url = new URL(r.url);
    url.username = 'marquez';
    url.password = 'db-password-5512';
    const { o } = observer({ url: url.toString(), apiKey: 'lineage-secret-7781' });
    o.loadStarted(load).failed('cannot reach postgres://etl:db-password-5512@db/warehouse');
    o.loadStarted(load).completed({ rows: 1, rejected: 0, addedColumns: [] });
    await o.close();
    expect(r.requests).toHaveLength(4);
    for (const q of r.requests) {
      expect(q.body).not.toContain('lineage-secret-7781');
      expect(q.body).not.toContain('db-password-5512');
      expect(q.authorization).toBe('Bearer lineage-secret-7781');
    }
  });

  it('ignores a parent id that is not namespace/job/runId, with a warning', async () => {
    const r = await receiver();
    const { o, warnings } = observer({ url: r.url, parentId: 'not-a-parent' });
    o.loadStarted(load).completed({ rows: 1, rejected: 0, addedColumns: [] });
    await o.close();
    expect(warnings()).toEqual([expect.stringContaining('OPENLINEAGE_PARENT_ID is not')]);
    for (const e of r.events() as { run: { facets: Record<string, unknown> } }[])
      expect(e.run.facets.parent).toBeUndefined();
  });
});

describe('the engine side of lineage (startLoadRun)', () => {
  const row = {
    ledgerId: '7',
    account: 'prod',
    stream: 'copilot_aq',
    apiPath: 'Copilot/AQTable',
    windowStart: load.window.start,
    windowEnd: load.window.end,
    vendorExportId: 'v-7',
    bytes: 99,
  } as unknown as ExportRecord;
  const deps = (lineage: LoadObserver) => ({
    lineage,
    client: {
      datasetFor: (a: string, s: string) => ({ namespace: 'cxone://x', name: `${a}.${s}` }),
    } as ExportApi,
    destination: {
      datasetFor: () => ({ namespace: 'bigquery', name: 'p.d.copilot_aq' }),
    } as unknown as Destination,
  });

  it('describes the load from the ledger row and the connectors, and ends each run once (the first end wins)', () => {
    const seen: unknown[] = [];
    const observer: LoadObserver = {
      loadStarted: (l) => {
        seen.push(l);
        return {
          completed: (r) => seen.push(['completed', r.rows]),
          failed: (m) => seen.push(['failed', m]),
        };
      },
      close: async () => {},
    };
    const run = startLoadRun(deps(observer), row, copilotAq);
    run.completed({ rows: 3, rejected: 0, addedColumns: [], replaced: 0 } as never);
    run.failed(new Error('after the commit'));
    expect(seen).toEqual([
      expect.objectContaining({
        account: 'prod',
        apiPath: 'Copilot/AQTable',
        ledgerId: '7',
        vendorExportId: 'v-7',
        bytes: 99,
        input: { namespace: 'cxone://x', name: 'prod.copilot_aq' },
        output: { namespace: 'bigquery', name: 'p.d.copilot_aq' },
      }),
      ['completed', 3],
    ]);
  });

  it('never lets an observer that throws reach the load, and redacts the error it is told', () => {
    registerSecret('engine-secret-4410');
    const messages: string[] = [];
    const throwing: LoadObserver = {
      loadStarted: () => ({
        completed: () => {
          throw new Error('observer broke');
        },
        failed: (m) => {
          messages.push(m);
          throw new Error('observer broke');
        },
      }),
      close: async () => {},
    };
    expect(() =>
      startLoadRun(deps(throwing), row, copilotAq).completed({ rows: 1, rejected: 0, addedColumns: [] }),
    ).not.toThrow();
    expect(() =>
      startLoadRun(deps(throwing), row, copilotAq).failed(new Error('x engine-secret-4410 y')),
    ).not.toThrow();
    expect(messages).toEqual(['x [REDACTED] y']);
    const brokenStart: LoadObserver = {
      loadStarted: () => {
        throw new Error('no');
      },
      close: async () => {},
    };
    expect(() => startLoadRun(deps(brokenStart), row, copilotAq).failed(new Error('x'))).not.toThrow();
  });
});
