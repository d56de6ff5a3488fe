import { describe, expect, it } from 'vitest';
import type { DbtSourcesFile } from '../../src/cli/dbt-sources.js';
import { e2eFixtures } from '../support/e2e-fixture.js';
import { startFakeBigQuery } from '../support/fake-bigquery.js';

/**
 * BigQuery as an analyst meets it (the local REST stand-in, state in PostgreSQL): every enabled
 * stream's table after `migrate` and after a first sync that loads nothing, and a dbt
 * `sources.yml` naming the project, the dataset and exactly the tables' fields.
 */
describe('BigQuery tables and dbt sources (e2e, local REST stand-in)', () => {
  const startE2e = e2eFixtures();
  const enabled = ['copilot_kb', 'copilot_as', 'autopilot_gr'];

  async function setup() {
    const f = await startE2e();
    const fake = await startFakeBigQuery('acme-analytics');
    f.defer(() => fake.close());
    const env = {
      GCE_METADATA_HOST: fake.metadataHost,
      METADATA_SERVER_DETECTION: 'assume-present',
      GOOGLE_APPLICATION_CREDENTIALS: '',
      HOME: f.ws.dir,
    };
    await f.ws.writeConfig({
      state: { url: f.db.url },
      destination: {
        type: 'bigquery',
        projectId: fake.projectId,
        dataset: 'cxone',
        location: 'EU',
        apiEndpoint: fake.url,
      },
      streams: Object.fromEntries(enabled.map((s) => [s, {}])),
    });
    const streamTables = () =>
      [...fake.tables.keys()].filter((k) => k.startsWith('cxone.') && !k.includes('_stage_')).sort();
    return { f, fake, env, streamTables };
  }

  it('migrate creates the dataset and every enabled stream table; dbt-sources names exactly their fields', async () => {
    const { f, fake, env, streamTables } = await setup();
    const migrate = await f.cli(['migrate', '--json'], { env });
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(streamTables()).toEqual(enabled.map((s) => `cxone.${s}`).sort());
    const [fresh] = await f.db.query<{ n: string }>(
      `select count(*) as n from cxone_od_sync.freshness where enabled`,
    );
    expect(Number(fresh!.n)).toBe(enabled.length);

    const dbt = await f.cli(['dbt-sources', '--json']);
    expect(dbt.code, dbt.stderr).toBe(0);
    const { sources } = dbt.json as DbtSourcesFile;
    // The state store is PostgreSQL, which dbt on BigQuery cannot read: the streams only.
    expect(sources.map((s) => [s.name, s.database, s.schema])).toEqual([['cxone', fake.projectId, 'cxone']]);
    expect(sources[0]!.tables.map((t) => t.name)).toEqual(enabled);
    for (const table of sources[0]!.tables) {
      const resource = fake.tables.get(`cxone.${table.name}`)!.resource;
      expect(table.description).toBe(resource.description);
      const fields = resource.schema.fields as { name: string; description: string }[];
      expect(table.columns.map((c) => [c.name, c.description])).toEqual(
        fields.map((x) => [x.name, x.description]),
      );
    }
    expect(f.sim.stats.exportRequests).toHaveLength(0);
  });

  it('a first sync creates every enabled stream table even when it requests nothing', async () => {
    const { f, env, streamTables } = await setup();
    const sync = await f.cli(['sync', '--json', '--max-exports', '0'], { env });
    expect(sync.code, sync.stderr).toBe(75);
    expect(f.sim.stats.exportRequests).toHaveLength(0);
    expect(streamTables()).toEqual(enabled.map((s) => `cxone.${s}`).sort());
  });
});
