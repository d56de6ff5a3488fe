import { freshnessViewDoc, stateTableDocs } from '../../migrations/index.js';
import type { RelationDoc } from '../../migrations/state-docs.js';
import type { ResolvedConfig } from '../config/load-config.js';
import { metadataColumns, type StreamSchema, tableDescription } from '../model/stream-schema.js';
import { type FreshnessThreshold, freshnessThresholds } from '../plan/freshness-thresholds.js';
import type { TableLocation } from '../ports/destination.js';
import { stateSchema } from '../state/state-constants.js';

/** A generic test as dbt reads it: a name, or a name with its arguments. */
type DbtTest = string | Record<string, Record<string, unknown>>;

export interface DbtColumn {
  readonly name: string;
  readonly description: string;
  readonly data_tests?: DbtTest[];
}

export interface DbtTable {
  readonly name: string;
  readonly description: string;
  readonly config?: Record<string, unknown>;
  readonly data_tests?: DbtTest[];
  readonly columns: DbtColumn[];
}

export interface DbtSource {
  readonly name: string;
  readonly description: string;
  readonly database: string;
  readonly schema: string;
  readonly config?: Record<string, unknown>;
  readonly tables: DbtTable[];
}

/** A dbt properties file declaring sources (`sources.yml`). */
export interface DbtSourcesFile {
  readonly version: 2;
  readonly sources: DbtSource[];
}

/** The state tables a dbt project may read besides the freshness view. */
const stateTables = ['exports', 'rejected_rows'] as const;

/** Per state relation: the columns that identify a row, and those never null. */
const stateKeys: Record<string, { key: readonly string[]; notNull: readonly string[] }> = {
  freshness: { key: ['account', 'stream'], notNull: ['account', 'stream'] },
  exports: { key: ['id'], notNull: ['id', 'account', 'stream', 'status', 'export_key'] },
  rejected_rows: { key: ['id'], notNull: ['id', 'export_id', 'export_key', 'stream'] },
};

const hours = (ms: number) => Math.round((ms / 3_600_000) * 10) / 10;

/** dbt's `unique` test: on the column when the key is one column, else on the key as text. */
function uniqueTest(key: readonly string[], location: TableLocation): DbtTest {
  return key.length === 1 ? 'unique' : { unique: { column_name: location.textKey(key) } };
}

/**
 * A stream's table as a dbt source table: its description and every column of the model (the
 * stream's columns, then the metadata columns) with theirs; `not_null` on the event time and the
 * metadata columns (every load writes them); `unique` on the row's key: its account, its export and the line
 * of the record in its file; freshness on `_loaded_at` at the thresholds the scheduler keeps.
 */
function streamTable(
  stream: StreamSchema,
  threshold: ReturnType<typeof freshnessThresholds>[number] | undefined,
  location: TableLocation,
): DbtTable {
  const metadata = new Set<string>(metadataColumns.map((c) => c.name));
  return {
    name: stream.name,
    description: tableDescription(stream),
    ...(threshold
      ? {
          config: {
            freshness: {
              warn_after: { count: threshold.warnAfterHours, period: 'hour' },
              error_after: { count: threshold.errorAfterHours, period: 'hour' },
            },
            meta: {
              cxone_od_sync: {
                event_time: stream.eventTime,
                expected_worst_lag_hours: hours(threshold.expectedWorstLagMs),
                refresh_interval_hours: hours(threshold.refreshIntervalMs),
                margin_hours: hours(threshold.marginMs),
              },
            },
          },
        }
      : {}),
    data_tests: [uniqueTest(['_account', '_export_id', '_source_line'], location)],
    columns: [...stream.columns, ...metadataColumns].map((c) => ({
      name: c.name,
      description: c.description,
      ...(c.name === stream.eventTime || metadata.has(c.name) ? { data_tests: ['not_null'] } : {}),
    })),
  };
}

/** A state table or view, documented as migration 0003 comments it. */
function stateTable(name: string, doc: RelationDoc, location: TableLocation): DbtTable {
  const keys = stateKeys[name]!;
  const oneColumnKey = keys.key.length === 1 ? keys.key[0] : undefined;
  return {
    name,
    description: doc.description,
    ...(oneColumnKey ? {} : { data_tests: [uniqueTest(keys.key, location)] }),
    columns: Object.entries(doc.columns).map(([column, description]) => {
      const tests: DbtTest[] = [];
      if (column === oneColumnKey) tests.push('unique');
      if (keys.notNull.includes(column)) tests.push('not_null');
      return { name: column, description, ...(tests.length ? { data_tests: tests } : {}) };
    }),
  };
}

/**
 * The dbt sources of the configured destination: every enabled stream's table (source named
 * after the destination's schema or dataset), and, when the state store lives in the same
 * PostgreSQL database, the `freshness` view, the ledger and `rejected_rows` (source
 * `cxone_od_sync`). Pure: the config, the destination's location and the cadence in.
 */
export function dbtSources(input: {
  readonly config: ResolvedConfig;
  readonly location: TableLocation;
  /** Whether the state schema is in the destination's database (dbt can read it there). */
  readonly stateInDestination: boolean;
  /** How often `sync` runs (the freshness thresholds follow from it). */
  readonly runEveryMs: number;
}): DbtSourcesFile {
  const { config, location } = input;
  // Each account's thresholds from its own quota and streams; a table holding several accounts'
  // rows warns only past the slowest account's expected worst lag.
  const thresholds = new Map<string, FreshnessThreshold>();
  const streams = new Map<string, StreamSchema>();
  for (const account of config.accounts) {
    for (const t of freshnessThresholds({
      quota: account.quota.perDay - account.quota.reserveForOthers,
      streams: account.streams,
      runEveryMs: input.runEveryMs,
    })) {
      const before = thresholds.get(t.stream);
      if (!before || t.errorAfterHours > before.errorAfterHours) thresholds.set(t.stream, t);
    }
    for (const s of account.streams) streams.set(s.schema.name, s.schema);
  }
  const keys = config.accounts.map((a) => a.accountKey);
  const sources: DbtSource[] = [
    {
      name: location.schema,
      description: `NICE CXone Observability Dashboard exports (account${keys.length > 1 ? 's' : ''} ${keys.join(', ')}; _account tells them apart), loaded by cxone-od-sync: one table per stream, each account's window replaced by its export.`,
      database: location.database,
      schema: location.schema,
      config: {
        loaded_at_field: '_loaded_at',
        meta: {
          cxone_od_sync: {
            accounts: Object.fromEntries(
              config.accounts.map((a) => [
                a.accountKey,
                { exports_per_24h: a.quota.perDay, reserve_for_others: a.quota.reserveForOthers },
              ]),
            ),
            sync_every_hours: hours(input.runEveryMs),
          },
        },
      },
      tables: [...streams.values()].map((schema) =>
        streamTable(schema, thresholds.get(schema.name), location),
      ),
    },
  ];
  if (input.stateInDestination) {
    sources.push({
      name: stateSchema,
      description:
        "cxone-od-sync's state: the freshness of every stream, the export ledger and the rows loads set aside. Join a stream table's _export_id to export_key.",
      database: location.database,
      schema: stateSchema,
      tables: [
        stateTable('freshness', freshnessViewDoc, location),
        ...stateTables.map((t) => stateTable(t, stateTableDocs[t]!, location)),
      ],
    });
  }
  return { version: 2, sources };
}
