import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copilotAq } from '../../schemas/copilot-aq.js';
import { e2eFixtures, yesterdayWindow, yesterdayWindowArgs } from '../support/e2e-fixture.js';
import { type LineageReceiver, refusedUrl, startLineageReceiver } from '../support/lineage-receiver.js';
import { openLineageProblems } from '../support/openlineage-schema.js';
import { expectTableMatchesSimulator } from '../support/table-expectations.js';
import type { TestDatabase } from '../support/test-database.js';

interface RunEvent {
  eventType: string;
  run: { runId: string; facets: Record<string, Record<string, unknown>> };
  job: { namespace: string; name: string };
  inputs: { namespace: string; name: string }[];
  outputs: {
    namespace: string;
    name: string;
    outputFacets?: { outputStatistics?: { rowCount: number; size?: number } };
  }[];
}

const parentRunId = '01890a5d-ac96-774b-bcce-b302099a8057';

/** The runs in `events`, each as its event types in order, keyed by job name. */
function runsByJob(events: RunEvent[]): Record<string, string[][]> {
  const runs = new Map<string, { job: string; types: string[] }>();
  for (const e of events) {
    const run = runs.get(e.run.runId) ?? { job: e.job.name, types: [] };
    run.types.push(e.eventType);
    runs.set(e.run.runId, run);
  }
  const out: Record<string, string[][]> = {};
  for (const { job, types } of runs.values()) out[job] = [...(out[job] ?? []), types];
  return out;
}

async function tableCount(db: TestDatabase, table: string): Promise<number> {
  const [r] = await db.query<{ n: string }>(`select count(*) as n from cxone.${table}`);
  return Number(r!.n);
}

/** Issue 16: OpenLineage events of a sync, against a local receiver over real HTTP. */
describe('OpenLineage events of a sync (e2e)', () => {
  const start = e2eFixtures();

  async function receiver(mode: 'ok' | 'hang' = 'ok', f: { defer(c: () => Promise<void>): void }) {
    const r: LineageReceiver = await startLineageReceiver(mode);
    f.defer(() => r.close());
    return r;
  }

  it('sends START + COMPLETE for a loaded export and START + FAIL for a failed one, valid, with the rows the table holds', async () => {
    const f = await start({
      // Every 10th row is bad: copilot_kb takes it (maxRejectedRatio 0.5), copilot_aq refuses the file.
      sim: { faults: { malformedEvery: 10 } },
    });
    const r = await receiver('ok', f);
    const file = join(f.ws.dir, 'lineage', 'events.jsonl');
    await f.ws.writeConfig({
      streams: { copilot_kb: { maxRejectedRatio: 0.5 }, copilot_aq: {} },
      lineage: { url: r.url, apiKey: '${LINEAGE_KEY}', file },
    });
    const sync = await f.cli(['sync', '--json', ...yesterdayWindowArgs()], {
      env: {
        LINEAGE_KEY: 'lineage-e2e-key-5501',
        OPENLINEAGE_PARENT_ID: `airflow/cxone_od_sync.sync_main/${parentRunId}`,
      },
    });
    expect(sync.code, sync.stderr).toBe(1);
    expect(
      sync.json.streams.map((s: { stream: string; state: string }) => [s.stream, s.state]).sort(),
    ).toEqual([
      ['copilot_aq', 'failed'],
      ['copilot_kb', 'done'],
    ]);
    expect(sync.stderr).not.toContain('lineage event not delivered');

    const events = r.events() as unknown as RunEvent[];
    for (const e of events) expect(openLineageProblems(e)).toEqual([]);
    expect(runsByJob(events)).toEqual({
      'cxone-od-sync.e2e.copilot_kb': [['START', 'COMPLETE']],
      'cxone-od-sync.e2e.copilot_aq': [['START', 'FAIL']],
    });

    const kbRows = await tableCount(f.db, 'copilot_kb');
    expect(kbRows).toBeGreaterThan(0);
    const complete = events.find((e) => e.eventType === 'COMPLETE')!;
    expect(complete.outputs[0]!.outputFacets!.outputStatistics!.rowCount).toBe(kbRows);
    const [ledger] = await f.db.query<{ bytes: string }>(
      `select bytes from cxone_od_sync.exports where stream = 'copilot_kb'`,
    );
    expect(complete.outputs[0]!.outputFacets!.outputStatistics!.size).toBe(Number(ledger!.bytes));
    expect(await tableCount(f.db, 'copilot_aq')).toBe(0);
    const fail = events.find((e) => e.eventType === 'FAIL')!;
    expect(fail.run.facets.errorMessage!.message).toMatch(/rows rejected, above maxRejectedRatio/);

    // Named by OpenLineage's conventions: the account's CXone table in, the warehouse table out.
    const db = new URL(f.db.url);
    const w = yesterdayWindow();
    for (const e of events) {
      const stream = e.job.name.split('.').at(-1)!;
      expect(e.job.namespace).toBe('cxone-od-sync');
      expect(e.inputs).toMatchObject([
        { namespace: `cxone://${new URL(f.sim.apiBase).host}`, name: `e2e.${stream}` },
      ]);
      expect(e.outputs).toMatchObject([
        {
          namespace: `postgres://${db.hostname}:${db.port || '5432'}`,
          name: `${db.pathname.slice(1)}.cxone.${stream}`,
        },
      ]);
      expect(e.run.facets.nominalTime).toMatchObject({
        nominalStartTime: w.start.toISOString(),
        nominalEndTime: w.end.toISOString(),
      });
      expect(e.run.facets.parent).toMatchObject({
        run: { runId: parentRunId },
        job: { namespace: 'airflow', name: 'cxone_od_sync.sync_main' },
      });
    }

    // The key authenticates; no event carries it.
    expect(new Set(r.requests.map((q) => `${q.path} ${q.authorization}`))).toEqual(
      new Set(['/api/v1/lineage Bearer lineage-e2e-key-5501']),
    );
    for (const q of r.requests) expect(q.body).not.toContain('lineage-e2e-key-5501');

    // The file transport got the same events, one JSON line each.
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    const key = (e: RunEvent) => `${e.run.runId} ${e.eventType}`;
    expect(lines.map((l) => key(JSON.parse(l))).sort()).toEqual(events.map(key).sort());
  });

  it.each([
    ['refuses connections', 'refused'],
    ['accepts but never answers', 'hang'],
  ] as const)('syncs as without lineage when the backend %s', async (_what, mode) => {
    const f = await start({ config: { streams: { copilot_aq: { timeZone: 'Europe/Berlin' } } } });
    const url = mode === 'refused' ? await refusedUrl() : (await receiver('hang', f)).url;
    await f.ws.writeConfig({
      streams: { copilot_aq: { timeZone: 'Europe/Berlin' } },
      lineage: { url, timeoutMs: 1_000 },
    });
    const sync = await f.cli(['sync', '--json', ...yesterdayWindowArgs()]);
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.json).toMatchObject({ outcome: 'done', exportsRequested: 1 });
    expect(sync.json.rowsLoaded).toBe(await expectTableMatchesSimulator(f.db, copilotAq));
    expect(sync.stderr).toContain('lineage event not delivered; the sync goes on without it');
  });
});
