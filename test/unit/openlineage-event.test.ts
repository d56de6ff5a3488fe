import { describe, expect, it } from 'vitest';
import { BigQueryDestination } from '../../connectors/bigquery/bigquery-destination.js';
import { ExportClient } from '../../connectors/cxone/export-client.js';
import type { TokenProvider } from '../../connectors/cxone/token-provider.js';
import { producerUri } from '../../connectors/openlineage/index.js';
import { jobName, type Producer, runEvent } from '../../connectors/openlineage/openlineage-event.js';
import { parseParentId } from '../../connectors/openlineage/parent-run.js';
import { uuidV7 } from '../../connectors/openlineage/uuid-v7.js';
import { postgresDataset } from '../../connectors/postgres/postgres-dataset.js';
import { copilotKb } from '../../schemas/copilot-kb.js';
import { silentLogger } from '../../src/log/logger.js';
import type { LoadRunStart } from '../../src/ports/lineage.js';
import { defaultRetryPolicy } from '../../src/retry/retry.js';
import { openLineageProblems } from '../support/openlineage-schema.js';

const load: LoadRunStart = {
  account: 'prod',
  schema: copilotKb,
  apiPath: 'Copilot/KBTable',
  window: { start: new Date('2026-11-01T00:00:00Z'), end: new Date('2026-11-02T00:00:00Z') },
  ledgerId: '12',
  vendorExportId: 'a1b2c3',
  bytes: 4096,
  input: { namespace: 'cxone://api-na1.niceincontact.com', name: 'prod.copilot_kb' },
  output: { namespace: 'postgres://db.internal:5432', name: 'warehouse.cxone.copilot_kb' },
};
const runId = uuidV7(Date.parse('2026-11-02T01:00:00Z'));
const parentRunId = '01890a5d-ac96-774b-bcce-b302099a8057';
const producer: Producer = {
  uri: producerUri('1.2.3'),
  version: '1.2.3',
  namespace: 'cxone-od-sync',
  parent: { namespace: 'airflow', name: 'cxone_od_sync.sync_main', runId: parentRunId },
};
const at = new Date('2026-11-02T01:00:05Z');

// biome-ignore lint/suspicious/noExplicitAny: tests walk the event freely
type AnyEvent = any;

describe('OpenLineage events of a load', () => {
  it('builds START, COMPLETE and FAIL events that the OpenLineage schemas accept', () => {
    const start = runEvent(producer, { type: 'START', runId, eventTime: at, load });
    const complete = runEvent(producer, {
      type: 'COMPLETE',
      runId,
      eventTime: at,
      load,
      result: { rows: 411, rejected: 3, addedColumns: ['sentiment_score'] },
    });
    const fail = runEvent(producer, { type: 'FAIL', runId, eventTime: at, load, error: 'too many rejected' });
    for (const e of [start, complete, fail]) expect(openLineageProblems(e)).toEqual([]);
  });

  it('names the job after the account and stream, the input after the account, the output as the destination does', () => {
    const e: AnyEvent = runEvent(producer, { type: 'START', runId, eventTime: at, load });
    expect(e.job).toMatchObject({ namespace: 'cxone-od-sync', name: 'cxone-od-sync.prod.copilot_kb' });
    expect(jobName('acct-1', 'autopilot_gr')).toBe('cxone-od-sync.acct-1.autopilot_gr');
    expect(e.inputs).toMatchObject([
      { namespace: 'cxone://api-na1.niceincontact.com', name: 'prod.copilot_kb' },
    ]);
    expect(e.outputs).toMatchObject([
      { namespace: 'postgres://db.internal:5432', name: 'warehouse.cxone.copilot_kb' },
    ]);
    expect(e.producer).toBe('pkg:npm/cxone-od-sync@1.2.3');
    expect(e.schemaURL).toBe('https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent');
    expect(e.run.runId).toBe(runId);
  });

  it('carries the window, the parent run, the engine, the schema and documentation of both tables', () => {
    const e: AnyEvent = runEvent(producer, { type: 'START', runId, eventTime: at, load });
    expect(e.eventType).toBe('START');
    expect(e.eventTime).toBe('2026-11-02T01:00:05.000Z');
    expect(e.run.facets.nominalTime).toMatchObject({
      nominalStartTime: '2026-11-01T00:00:00.000Z',
      nominalEndTime: '2026-11-02T00:00:00.000Z',
    });
    expect(e.run.facets.parent).toMatchObject({
      run: { runId: parentRunId },
      job: { namespace: 'airflow', name: 'cxone_od_sync.sync_main' },
    });
    expect(e.run.facets.processing_engine).toMatchObject({ name: 'cxone-od-sync', version: '1.2.3' });
    expect(e.run.facets.errorMessage).toBeUndefined();
    const input = e.inputs[0].facets;
    expect(input.schema.fields[0]).toMatchObject({ name: 'Interaction Time', type: 'timestamp' });
    expect(input.documentation.description).toContain('Copilot/KBTable');
    expect(input.dataSource).toMatchObject({ name: 'cxone://api-na1.niceincontact.com' });
    const output = e.outputs[0].facets;
    const names = output.schema.fields.map((f: { name: string }) => f.name);
    expect(names.slice(0, 2)).toEqual(['interaction_time', 'contact_id']);
    expect(names).toEqual(expect.arrayContaining(['_export_id', '_window_start', '_loaded_at']));
    expect(output.documentation.description).toBe(copilotKb.description);
    expect(output.dataSource).toMatchObject({
      name: 'postgres://db.internal:5432',
      uri: 'postgres://db.internal:5432',
    });
    expect(e.outputs[0].outputFacets).toBeUndefined();
  });

  it('states on COMPLETE the rows committed and the bytes loaded, with columns drift added; on FAIL the error', () => {
    const complete: AnyEvent = runEvent(producer, {
      type: 'COMPLETE',
      runId,
      eventTime: at,
      load,
      result: { rows: 411, rejected: 3, addedColumns: ['sentiment_score'] },
    });
    expect(complete.outputs[0].outputFacets.outputStatistics).toMatchObject({ rowCount: 411, size: 4096 });
    expect(complete.inputs[0].inputFacets.dataQualityMetrics).toMatchObject({ rowCount: 414, bytes: 4096 });
    expect(complete.outputs[0].facets.schema.fields).toContainEqual(
      expect.objectContaining({ name: 'sentiment_score', type: 'text' }),
    );
    const fail: AnyEvent = runEvent(producer, { type: 'FAIL', runId, eventTime: at, load, error: 'boom' });
    expect(fail.run.facets.errorMessage).toMatchObject({
      message: 'boom',
      programmingLanguage: 'JavaScript',
    });
    expect(fail.outputs[0].outputFacets).toBeUndefined();
    const unsized: AnyEvent = runEvent(producer, {
      type: 'COMPLETE',
      runId,
      eventTime: at,
      load: { ...load, bytes: null },
      result: { rows: 0, rejected: 0, addedColumns: [] },
    });
    expect(unsized.outputs[0].outputFacets.outputStatistics).toEqual(
      expect.not.objectContaining({ size: expect.anything() }),
    );
    expect(openLineageProblems(unsized)).toEqual([]);
  });

  it('sends no parent facet without a parent, and a root with one', () => {
    const none: AnyEvent = runEvent(
      { ...producer, parent: undefined },
      { type: 'START', runId, eventTime: at, load },
    );
    expect(none.run.facets.parent).toBeUndefined();
    const root = {
      namespace: 'airflow',
      name: 'cxone_od_sync',
      runId: '01890a5d-ac96-774b-bcce-b302099a8058',
    };
    const rooted: AnyEvent = runEvent({ ...producer, root }, { type: 'START', runId, eventTime: at, load });
    expect(rooted.run.facets.parent.root).toEqual({
      run: { runId: root.runId },
      job: { namespace: 'airflow', name: 'cxone_od_sync' },
    });
    expect(openLineageProblems(rooted)).toEqual([]);
  });

  it('refuses an event the schema does not accept (the validator is not a no-op)', () => {
    const e: AnyEvent = runEvent(producer, { type: 'START', runId, eventTime: at, load });
    expect(openLineageProblems({ ...e, run: { runId: 'not-a-uuid' } })).not.toEqual([]);
    expect(openLineageProblems({ ...e, eventType: 'DONE' })).not.toEqual([]);
    const badFacet = structuredClone(e);
    badFacet.run.facets.nominalTime.nominalStartTime = 'yesterday';
    expect(openLineageProblems(badFacet)).not.toEqual([]);
    const unknown = structuredClone(e);
    unknown.run.facets.mine = { _producer: 'x:y', _schemaURL: 'x:y' };
    expect(openLineageProblems(unknown)).toEqual([expect.stringContaining('no schema for this facet')]);
  });
});

describe('OpenLineage naming', () => {
  it('names a PostgreSQL table postgres://host:port and database.schema.table, without credentials', () => {
    expect(
      postgresDataset(
        'postgres://etl:s3cret@DB.example.com:6543/warehouse?sslmode=require',
        'cxone',
        'copilot_kb',
      ),
    ).toEqual({
      namespace: 'postgres://db.example.com:6543',
      name: 'warehouse.cxone.copilot_kb',
    });
    expect(postgresDataset('postgresql://etl@db.example.com/warehouse', 'cxone', 't')).toEqual({
      namespace: 'postgres://db.example.com:5432',
      name: 'warehouse.cxone.t',
    });
    // No database in the URL: node-postgres uses the user's name.
    expect(postgresDataset('postgres://etl@10.0.0.5', 'cxone', 't').name).toBe('etl.cxone.t');
    expect(postgresDataset('postgres:///warehouse?host=/var/run/postgresql', 's', 't')).toEqual({
      namespace: 'postgres://localhost:5432',
      name: 'warehouse.s.t',
    });
    // The embedded database of `demo`.
    expect(postgresDataset(undefined, 'cxone', 't')).toEqual({
      namespace: 'postgres://pglite',
      name: 'postgres.cxone.t',
    });
  });

  it('names a BigQuery table bigquery and project.dataset.table', () => {
    const bq = new BigQueryDestination({ projectId: 'acme-analytics', dataset: 'cxone', location: 'EU' });
    expect(bq.datasetFor(copilotKb)).toEqual({
      namespace: 'bigquery',
      name: 'acme-analytics.cxone.copilot_kb',
    });
  });

  it('names the CXone table cxone://{api host} and {account}.{stream}', () => {
    const client = (apiBase: string) =>
      new ExportClient(
        {} as TokenProvider,
        { apiBase, allowedDownloadHosts: [], retry: defaultRetryPolicy, timeoutMs: 1000 },
        silentLogger,
      );
    expect(client('https://api-na1.niceincontact.com').datasetFor('prod', 'copilot_kb')).toEqual({
      namespace: 'cxone://api-na1.niceincontact.com',
      name: 'prod.copilot_kb',
    });
    expect(client('http://127.0.0.1:8080').datasetFor('e2e', 'autopilot_gr')).toEqual({
      namespace: 'cxone://127.0.0.1:8080',
      name: 'e2e.autopilot_gr',
    });
  });

  it('reads a parent id as Airflow renders it: namespace/job_name/run_id', () => {
    expect(parseParentId(`default/cxone_od_sync.sync_main/${parentRunId}`)).toEqual({
      namespace: 'default',
      name: 'cxone_od_sync.sync_main',
      runId: parentRunId,
    });
    // A namespace that is a URI keeps its slashes.
    expect(parseParentId(`airflow://prod/dag.task/${parentRunId.toUpperCase()}`)).toEqual({
      namespace: 'airflow://prod',
      name: 'dag.task',
      runId: parentRunId,
    });
    for (const bad of [
      '',
      parentRunId,
      `job/${parentRunId}`,
      'ns/job/not-a-uuid',
      `/job/${parentRunId}`,
      `ns//${parentRunId}`,
    ])
      expect(parseParentId(bad), bad).toBeUndefined();
  });

  it('makes run ids that are UUID version 7, ordered by time', () => {
    const a = uuidV7(Date.parse('2026-11-02T01:00:00Z'));
    const b = uuidV7(Date.parse('2026-11-02T01:00:01Z'));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
    expect(uuidV7(0)).not.toBe(uuidV7(0));
  });
});
