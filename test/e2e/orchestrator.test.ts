import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliPath, type Workspace } from '../support/cli-harness.js';
import { e2eFixtures } from '../support/e2e-fixture.js';
import { runProcess } from '../support/run-process.js';

const taskScript = resolve(import.meta.dirname, '../../examples/airflow/cxone-od-sync-task.sh');

function runTask(
  { ws, env }: { ws: Workspace; env: NodeJS.ProcessEnv },
  start: string,
  end: string,
  extra: string[] = [],
) {
  return runProcess('bash', [taskScript, '--start', start, '--end', end, ...extra], {
    cwd: ws.dir,
    env: {
      ...process.env,
      ...env,
      CXONE_OD_SYNC: `${process.execPath} ${cliPath}`,
      CXONE_OD_SYNC_CONFIG: ws.configPath,
    },
  });
}

/** The Airflow DAG's command line (examples/airflow), run as Airflow would, against the simulator. */
describe('orchestrator contract (e2e)', () => {
  const startE2e = e2eFixtures();

  const end = new Date(Date.now() - 86_400_000);
  end.setUTCHours(0, 0, 0, 0);
  const start = new Date(end.getTime() - 86_400_000);

  it('gives exit codes and a JSON summary (last stdout line) for a done, a deferred and a failed run', async () => {
    const f = await startE2e({
      sim: { faults: { quota: 10 } },
      config: {
        account: { exportsPer24h: 2 },
        streams: { copilot_kb: {}, copilot_as: { schemaDrift: 'fail' }, copilot_aq: {} },
      },
    });
    const { ws } = f;

    const done = await runTask(f, start.toISOString(), end.toISOString(), ['--stream', 'copilot_kb']);
    expect(done.code, done.stderr).toBe(0);
    const doneSummary = JSON.parse(done.stdout.trim().split('\n').at(-1)!);
    expect(doneSummary).toMatchObject({ command: 'sync', outcome: 'done', exitCode: 0, exportsRequested: 1 });
    expect(doneSummary.streams[0]).toMatchObject({
      stream: 'copilot_kb',
      state: 'done',
      exports: [{ status: 'loaded', windowStart: start.toISOString(), windowEnd: end.toISOString() }],
    });

    // A retry of the same interval spends nothing and is done.
    const rerun = await runTask(f, start.toISOString(), end.toISOString(), ['--stream', 'copilot_kb']);
    expect(rerun.code).toBe(0);
    expect(ws.sim.stats.exportRequests).toHaveLength(1);

    const deferred = await runTask(f, start.toISOString(), end.toISOString(), [
      '--stream',
      'copilot_as',
      '--stream',
      'copilot_aq',
    ]);
    expect(deferred.code, deferred.stderr).toBe(75);
    const deferredSummary = JSON.parse(deferred.stdout.trim().split('\n').at(-1)!);
    expect(deferredSummary.outcome).toBe('deferred');
    expect(new Date(deferredSummary.nextSlotAt).getTime()).toBeGreaterThan(Date.now());
    expect(deferred.stderr).toContain('the next run picks it up');

    ws.sim.setFaults({ driftExtraHeader: true });
    await ws.writeConfig({
      account: { exportsPer24h: 10 },
      streams: { copilot_kb: {}, copilot_as: { schemaDrift: 'fail' }, copilot_aq: {} },
    });
    // copilot_aq went first in the deferred run (never synced, then by name); copilot_as is due.
    const failed = await runTask(f, start.toISOString(), end.toISOString(), ['--stream', 'copilot_as']);
    expect(failed.code, failed.stderr).toBe(1);
    const failedSummary = JSON.parse(failed.stdout.trim().split('\n').at(-1)!);
    expect(failedSummary).toMatchObject({ outcome: 'failed', exitCode: 1 });
    expect(failedSummary.streams[0].error).toMatch(/schemaDrift: fail/);

    const usage = await runTask(f, 'not-a-date', end.toISOString());
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout.trim().split('\n').at(-1)!)).toMatchObject({
      outcome: 'error',
      exitCode: 2,
      error: { retryable: false },
    });
  });

  it('writes logs on a non-terminal as one JSON object per line, with no secret in them', async () => {
    const f = await startE2e({
      sim: { faults: { expireNextUrls: 1 } },
      config: { streams: { copilot_kb: {} } },
    });
    const { ws } = f;
    const r = await runTask(f, start.toISOString(), end.toISOString());
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) {
      const entry = JSON.parse(line);
      expect(entry).toMatchObject({
        time: expect.any(String),
        level: expect.any(String),
        msg: expect.any(String),
      });
    }
    for (const secret of [
      ws.sim.credentials.clientSecret,
      ws.sim.credentials.accessSecret,
      ...ws.sim.stats.issuedTokens,
    ]) {
      expect(r.stderr).not.toContain(secret);
      expect(r.stdout).not.toContain(secret);
    }
    for (const url of ws.sim.stats.downloadUrls)
      expect(r.stderr).not.toContain(new URL(url).searchParams.get('sig')!);
  });
});
