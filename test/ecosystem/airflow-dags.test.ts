import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { streamSchemas } from '../../schemas/index.js';
import { cliPath } from '../support/cli-harness.js';
import { yesterdayWindow } from '../support/e2e-fixture.js';
import { type RunningSimulator, startSimulator } from '../support/simulator.js';
import { expectTableMatchesSimulator } from '../support/table-expectations.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { runPythonJson, runTool, tail } from './python-tools.js';

const dagsFolder = resolve(import.meta.dirname, '../../examples/airflow');
/** The CLI as the worker runs it: the README's `CXONE_OD_SYNC`. */
const cxoneOdSync = `${process.execPath} ${cliPath}`;

interface TaskStates {
  run_id: string;
  tasks: { task_id: string; map_index: number; state: string; try_number: number }[];
}
interface LineageEvents {
  events: {
    file: string;
    eventType: string;
    job: { namespace: string; name: string };
    runId: string;
    outputs: string[];
    parent: { namespace: string; name: string; runId: string } | null;
    root: unknown;
  }[];
}

const account = (sim: RunningSimulator, secretVar: string) => ({
  authUrl: sim.authUrl,
  apiBase: sim.apiBase,
  clientId: sim.credentials.clientId,
  clientSecret: `\${${secretVar}}`,
  accessKey: sim.credentials.accessKey,
  accessSecret: '${CXONE_ACCESS_SECRET}',
  pollIntervalSeconds: 0.05,
  pollMaxIntervalSeconds: 0.2,
  httpRetryBaseMs: 20,
});

/**
 * The three DAGs of examples/airflow, unmodified, in a real Airflow 3 (standalone, SQLite, a
 * temporary AIRFLOW_HOME): parsed by a DagBag, the hourly and backfill DAGs run by `airflow dags
 * test` against the project's simulator, the Kubernetes DAG's pod built by the operator itself.
 * The worker's environment is the README's: CXONE_OD_SYNC_CONFIG, CXONE_OD_SYNC and the
 * variables the config names; no Airflow connection, no DATABASE_URL.
 */
describe('the example DAGs in a real Airflow', () => {
  let home: string;
  let sim: RunningSimulator;
  let db: TestDatabase;
  let airflowEnv: NodeJS.ProcessEnv;
  const airflowLineage = () => join(home, 'airflow-lineage.jsonl');
  const connectorLineage = () => join(home, 'connector-lineage.jsonl');

  const airflow = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runTool('airflow', args, { env: { ...airflowEnv, ...env }, cwd: home });

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'cxone-airflow-'));
    sim = await startSimulator();
    db = await createTestDatabase();
    airflowEnv = {
      AIRFLOW_HOME: home,
      AIRFLOW__CORE__DAGS_FOLDER: dagsFolder,
      AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
      AIRFLOW__OPENLINEAGE__NAMESPACE: 'airflow-ecosystem',
      AIRFLOW__OPENLINEAGE__TRANSPORT: JSON.stringify({
        type: 'file',
        log_file_path: airflowLineage(),
        append: true,
      }),
    };
    const migrated = await airflow(['db', 'migrate']);
    expect(migrated.code, tail(migrated)).toBe(0);
  });

  afterAll(async () => {
    await sim?.close();
    await db?.drop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('imports every DAG in a DagBag with no error and no warning', async () => {
    const bag = await runPythonJson<{ dag_ids: string[]; import_errors: object; warnings: object }>(
      'dagbag.py',
      [dagsFolder],
      airflowEnv,
    );
    expect(bag.import_errors).toEqual({});
    expect(bag.warnings).toEqual({});
    expect(bag.dag_ids).toEqual(['cxone_od_sync', 'cxone_od_sync_backfill', 'cxone_od_sync_k8s']);
  });

  it('runs the hourly DAG: one mapped task per account; 75 is skipped, a wrong secret fails at once; the loads name the task as parent', async () => {
    const start = new Date(yesterdayWindow().start.getTime() - 86_400_000);
    const configPath = join(home, 'accounts.yaml');
    await writeFile(
      configPath,
      stringify({
        accounts: { east: account(sim, 'EAST_CLIENT_SECRET'), west: account(sim, 'WEST_CLIENT_SECRET') },
        archive: { dir: join(home, 'archive') },
        destination: { type: 'postgres', url: db.url, schema: 'cxone', copy: db.copy },
        lineage: { file: connectorLineage() },
        streams: Object.fromEntries(streamSchemas.map((s) => [s.name, { start: start.toISOString() }])),
      }),
    );
    const run = await airflow(['dags', 'test', 'cxone_od_sync'], {
      CXONE_OD_SYNC_CONFIG: configPath,
      CXONE_OD_SYNC: cxoneOdSync,
      EAST_CLIENT_SECRET: sim.credentials.clientSecret,
      WEST_CLIENT_SECRET: 'not-the-secret',
      CXONE_ACCESS_SECRET: sim.credentials.accessSecret,
    });
    // The run fails (west), after every task has run.
    expect(run.stdout + run.stderr, tail(run)).toContain('DagRun failed');

    const states = await runPythonJson<TaskStates>('task_states.py', ['cxone_od_sync'], airflowEnv);
    expect(states.tasks).toEqual([
      { task_id: 'account_keys', map_index: -1, state: 'success', try_number: 1 },
      // east: three streams loaded, the fourth waits for the next slot: exit 75, skipped.
      { task_id: 'sync', map_index: 0, state: 'skipped', try_number: 1 },
      // west: the token endpoint refuses the secret: exit 2, failed with no retry.
      { task_id: 'sync', map_index: 1, state: 'failed', try_number: 1 },
    ]);
    expect(run.stdout).toContain('exited 2 (usage, config or credentials)');

    const loaded = await db.query<{ account: string; stream: string }>(
      `select account, stream from cxone_od_sync.exports where status = 'loaded' order by stream`,
    );
    expect(loaded).toHaveLength(3);
    expect(new Set(loaded.map((l) => l.account))).toEqual(new Set(['east']));
    for (const l of loaded) {
      await expectTableMatchesSimulator(db, streamSchemas.find((s) => s.name === l.stream)!);
    }

    // OpenLineage, both sides read with openlineage-python's models: every load run of the
    // connector names the east task's run (its namespace, job and run id) as its parent.
    const lineage = await runPythonJson<LineageEvents>('lineage_events.py', [
      airflowLineage(),
      connectorLineage(),
    ]);
    const task = lineage.events.filter(
      (e) => e.file === airflowLineage() && e.job.name === 'cxone_od_sync.sync' && e.eventType === 'START',
    );
    expect(task.length, JSON.stringify(lineage.events.map((e) => [e.job.name, e.eventType]))).toBe(2);
    const loads = lineage.events.filter((e) => e.file === connectorLineage());
    expect(loads.map((e) => e.eventType).sort()).toEqual([
      'COMPLETE',
      'COMPLETE',
      'COMPLETE',
      'START',
      'START',
      'START',
    ]);
    const parents = new Set(loads.map((e) => JSON.stringify(e.parent)));
    expect(parents.size).toBe(1);
    const parent = loads[0]!.parent!;
    expect(parent.namespace).toBe('airflow-ecosystem');
    expect(parent.name).toBe('cxone_od_sync.sync');
    expect(task.map((t) => t.runId)).toContain(parent.runId);
    expect(loads.every((e) => e.root !== null)).toBe(true);
  });

  it('runs the backfill DAG with its params: one stream, one explicit window, one export', async () => {
    const other = await startSimulator();
    const backfillDb = await createTestDatabase();
    try {
      const configPath = join(home, 'one-account.yaml');
      await writeFile(
        configPath,
        stringify({
          account: account(other, 'CXONE_CLIENT_SECRET'),
          archive: { dir: join(home, 'archive-backfill') },
          destination: { type: 'postgres', url: backfillDb.url, schema: 'cxone', copy: backfillDb.copy },
        }),
      );
      const w = yesterdayWindow();
      const conf = { stream: 'copilot_as', start: w.start.toISOString(), end: w.end.toISOString() };
      const run = await airflow(['dags', 'test', 'cxone_od_sync_backfill', '--conf', JSON.stringify(conf)], {
        CXONE_OD_SYNC_CONFIG: configPath,
        CXONE_OD_SYNC: cxoneOdSync,
        CXONE_CLIENT_SECRET: other.credentials.clientSecret,
        CXONE_ACCESS_SECRET: other.credentials.accessSecret,
      });
      const states = await runPythonJson<TaskStates>(
        'task_states.py',
        ['cxone_od_sync_backfill'],
        airflowEnv,
      );
      expect(states.tasks, tail(run)).toEqual([
        { task_id: 'sync_window', map_index: -1, state: 'success', try_number: 1 },
      ]);
      const exports = await backfillDb.query<{ stream: string; window_start: Date; window_end: Date }>(
        `select stream, window_start, window_end from cxone_od_sync.exports where status = 'loaded'`,
      );
      expect(exports).toEqual([{ stream: 'copilot_as', window_start: w.start, window_end: w.end }]);
      expect(other.stats.exportRequests).toHaveLength(1);
      await expectTableMatchesSimulator(backfillDb, streamSchemas.find((s) => s.name === 'copilot_as')!);
    } finally {
      await other.close();
      await backfillDb.drop();
    }
  });

  it("builds the Kubernetes DAG's pod with the image, command, resources, config and secrets the docs give", async () => {
    // biome-ignore lint/suspicious/noExplicitAny: Kubernetes' pod JSON, walked freely
    const pod = await runPythonJson<any>('pod_request.py', [dagsFolder, 'east'], airflowEnv);
    const [container] = pod.spec.containers;
    expect(container.image).toBe('ghcr.io/your-org/cxone-od-sync:0.1.0');
    expect(container.command).toEqual(['cxone-od-sync']);
    expect(container.args).toEqual([
      'sync',
      '--json',
      '--config',
      '/config/cxone-od-sync.yaml',
      '--account',
      'east',
    ]);
    expect(container.resources).toEqual({ requests: { memory: '160Mi' }, limits: { memory: '256Mi' } });
    expect(container.volumeMounts).toEqual([{ name: 'config', mountPath: '/config', readOnly: true }]);
    expect(pod.spec.volumes).toEqual([{ name: 'config', configMap: { name: 'cxone-od-sync-config' } }]);
    expect(container.envFrom).toEqual([{ secretRef: { name: 'cxone-od-sync-accounts' } }]);
    const env = Object.fromEntries(container.env.map((e: { name: string }) => [e.name, e]));
    expect(env.DATABASE_URL.valueFrom).toEqual({
      secretKeyRef: { name: 'cxone-od-sync-database', key: 'url' },
    });
    expect(env.OPENLINEAGE_PARENT_ID.value).toBe('{{ lineage_parent_id(task_instance) }}');
    expect(pod.spec.terminationGracePeriodSeconds).toBe(45);
  });
});
