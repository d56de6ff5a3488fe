import { randomBytes } from 'node:crypto';
import { BigQuery } from '@google-cloud/bigquery';
import { afterAll, describe, expect, it } from 'vitest';
import { BigQueryDestination } from '../../connectors/bigquery/bigquery-destination.js';
import { copilotKb } from '../../schemas/copilot-kb.js';
import type { TypedRow } from '../../src/parse/row-typer.js';
import type { LoadJob } from '../../src/ports/destination.js';

/** No table here predates `_account`: asked, it names the account of the load. */
const noExistingRows = async () => 'acct-a';

/**
 * The contract scenarios against real BigQuery. Runs only when BIGQUERY_TEST_PROJECT is set and
 * credentials are available (GOOGLE_APPLICATION_CREDENTIALS or application default credentials);
 * reported as skipped otherwise. Makes its own dataset and deletes it afterwards.
 *
 *   BIGQUERY_TEST_PROJECT=my-project [BIGQUERY_TEST_LOCATION=EU] npx vitest run test/live
 */
const projectId = process.env.BIGQUERY_TEST_PROJECT;
const location = process.env.BIGQUERY_TEST_LOCATION || 'US';
const windowA = { start: new Date('2026-11-01T00:00:00Z'), end: new Date('2026-11-02T00:00:00Z') };
const columns = ['interaction_time', 'contact_id', 'agent_number', 'team'].map(
  (n) => copilotKb.columns.find((c) => c.name === n)!,
);

function job(rows: TypedRow[], loadedAt: Date): LoadJob {
  return {
    schema: copilotKb,
    columns,
    exportKey: `live-${loadedAt.getTime()}`,
    account: 'live',
    window: windowA,
    loadedAt,
    rows: (async function* () {
      yield rows;
    })(),
    beforeCommit: async () => {},
    commit: async () => {},
  };
}

const rows = (n: number, tag: string): TypedRow[] =>
  Array.from({ length: n }, (_, i) => ({
    line: i + 2,
    values: [
      new Date(windowA.start.getTime() + i * 60_000),
      `${tag}-${i}`,
      String(i),
      i % 2 ? 'Support' : null,
    ],
  }));

describe.skipIf(!projectId)('BigQuery destination (live)', () => {
  const dataset = `cxone_od_sync_test_${randomBytes(4).toString('hex')}`;
  const bq = new BigQuery({ projectId, location });
  const dest = new BigQueryDestination({ projectId: projectId as string, dataset, location });
  const count = async () => {
    const [r] = await bq.query({
      query: `SELECT COUNT(*) AS n, COUNT(DISTINCT contact_id) AS d FROM \`${projectId}.${dataset}.copilot_kb\``,
      location,
    });
    return r[0] as { n: number; d: number };
  };
  afterAll(async () => {
    await bq
      .dataset(dataset)
      .delete({ force: true })
      .catch(() => {});
  });

  it('creates the table partitioned, clustered and described', async () => {
    expect(await dest.check([copilotKb])).toMatch(/does not exist yet/);
    await dest.ensureTable(copilotKb, [], noExistingRows);
    const [meta] = await bq.dataset(dataset).table('copilot_kb').getMetadata();
    expect(meta.timePartitioning).toMatchObject({ type: 'DAY', field: 'interaction_time' });
    expect(meta.clustering).toEqual({ fields: ['team', 'skill', 'agent_number'] });
    expect(meta.schema.fields[0]).toMatchObject({
      name: 'interaction_time',
      type: 'TIMESTAMP',
      mode: 'REQUIRED',
    });
    expect(await dest.check([copilotKb])).toMatch(/readable and writable/);
  });

  it('gives the same table whenever a window is loaded again', async () => {
    await dest.load(job(rows(40, 'a'), new Date()));
    expect(await count()).toEqual({ n: 40, d: 40 });
    await dest.load(job(rows(40, 'a'), new Date()));
    expect(await count()).toEqual({ n: 40, d: 40 });
  });

  it('leaves the table as it was when the load job fails', async () => {
    const bad = rows(5, 'b');
    bad[3] = { line: 5, values: [null, 'b-3', '3', null] };
    await expect(dest.load(job(bad, new Date()))).rejects.toThrow(/load job .* failed/);
    expect(await count()).toEqual({ n: 40, d: 40 });
  });
});
