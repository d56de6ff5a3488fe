import { describe, expect, it } from 'vitest';
import { postgresDestinationFactory } from '../../connectors/postgres/index.js';
import { freshnessViewDocV4 } from '../../migrations/0004-stream-backoff-and-shared-quota.js';
import { streamSchemas } from '../../schemas/index.js';
import { dbtSources } from '../../src/cli/dbt-sources.js';
import { destinationSection } from '../../src/config/destinations/index.js';
import { resolveConfig } from '../../src/config/load-config.js';
import { metadataColumns } from '../../src/model/stream-schema.js';
import { freshnessThresholds } from '../../src/plan/freshness-thresholds.js';

const hourMs = 3_600_000;
const account = {
  name: 'unit',
  region: 'na1',
  clientId: 'id',
  clientSecret: 'secret-value',
  accessKey: 'AK==',
  accessSecret: 'as-secret-value',
};

function build(raw: Record<string, unknown>, runEveryMs = hourMs) {
  const config = resolveConfig({ account, ...raw }, {});
  const section = destinationSection(config.raw.destination.type);
  return {
    config,
    file: dbtSources({
      config,
      location: section.tableLocation(config.raw.destination),
      stateInDestination: section.databaseUrl(config.raw.destination) === config.stateUrl,
      runEveryMs,
    }),
  };
}

describe('dbt sources from the model and the config', () => {
  it('names every enabled stream with every column of the model, in the PostgreSQL database and schema', () => {
    const { config, file } = build({
      destination: { type: 'postgres', url: 'postgres://u@db.example:5432/warehouse', schema: 'cx' },
      streams: { copilot_kb: {}, copilot_aq: {} },
    });
    const [streams, state] = file.sources;
    expect(streams).toMatchObject({ name: 'cx', database: 'warehouse', schema: 'cx' });
    expect(streams!.config).toMatchObject({ loaded_at_field: '_loaded_at' });
    expect(streams!.tables.map((t) => t.name)).toEqual(['copilot_kb', 'copilot_aq']);
    const thresholds = freshnessThresholds({
      quota: config.accounts[0]!.quota.perDay,
      streams: config.accounts[0]!.streams,
      runEveryMs: hourMs,
    });
    for (const table of streams!.tables) {
      const schema = streamSchemas.find((s) => s.name === table.name)!;
      const model = [...schema.columns, ...metadataColumns];
      expect(table.columns.map((c) => c.name)).toEqual(model.map((c) => c.name));
      expect(table.columns.map((c) => c.description)).toEqual(model.map((c) => c.description));
      const notNull = table.columns.filter((c) => c.data_tests?.includes('not_null')).map((c) => c.name);
      expect(notNull).toEqual([schema.eventTime, ...metadataColumns.map((c) => c.name)]);
      expect(table.data_tests).toEqual([
        { unique: { column_name: "concat_ws(':', _account, _export_id, _source_line)" } },
      ]);
      const t = thresholds.find((x) => x.stream === table.name)!;
      expect(table.config?.freshness).toEqual({
        warn_after: { count: t.warnAfterHours, period: 'hour' },
        error_after: { count: t.errorAfterHours, period: 'hour' },
      });
    }
    // The state lives in the same database: its freshness view, ledger and rejected rows too.
    expect(state).toMatchObject({ name: 'cxone_od_sync', database: 'warehouse', schema: 'cxone_od_sync' });
    expect(state!.tables.map((t) => t.name)).toEqual(['freshness', 'exports', 'rejected_rows']);
    expect(state!.tables[0]!.columns.map((c) => c.name)).toEqual(Object.keys(freshnessViewDocV4.columns));
  });

  it('leaves the state out when it lives in another database', () => {
    const { file } = build({
      state: { url: 'postgres://u@state.example/state' },
      destination: { type: 'postgres', url: 'postgres://u@db.example/warehouse' },
    });
    expect(file.sources.map((s) => s.name)).toEqual(['cxone']);
  });

  it('names the BigQuery project and dataset, with a key expression BigQuery runs', () => {
    const { file } = build({
      state: { url: 'postgres://u@state.example/state' },
      destination: { type: 'bigquery', projectId: 'acme-analytics', dataset: 'cxone_raw' },
    });
    expect(file.sources).toHaveLength(1);
    expect(file.sources[0]).toMatchObject({
      name: 'cxone_raw',
      database: 'acme-analytics',
      schema: 'cxone_raw',
    });
    expect(file.sources[0]!.tables[0]!.data_tests).toEqual([
      {
        unique: {
          column_name:
            "concat(cast(_account as string), ':', cast(_export_id as string), ':', cast(_source_line as string))",
        },
      },
    ]);
  });

  it('takes the database of a PostgreSQL URL without a path from its user, as libpq does', () => {
    const location = (url: string) =>
      postgresDestinationFactory.tableLocation({
        type: 'postgres',
        url,
        schema: 'cxone',
        copy: true,
        maxConnections: 4,
      }).database;
    expect(location('postgres://analyst@host/')).toBe('analyst');
    expect(location('postgresql://u:p%40ss@host:5433/my%20db?sslmode=require')).toBe('my db');
    expect(location('host=db dbname=warehouse user=u')).toBe('warehouse');
  });
});
