import { z } from 'zod';
import { findStreamSchema, streamSchemas } from '../../schemas/index.js';
import { destinationSection, destinationSections } from './destinations/index.js';
import { isPostgresUrl, postgresUrlHint } from './postgres-url.js';
import {
  accountFields,
  accountKeyPattern,
  apiBaseOrRegion,
  duration,
  hasApiBaseOrRegion,
  leavesOneExport,
  reserveBelowQuota,
  schemaDrift,
  streamOptions,
  timeZone,
} from './section-schemas.js';

type ConfigSchemas<T extends readonly unknown[]> = {
  -readonly [K in keyof T]: T[K] extends { configSchema: infer S } ? S : never;
};

/** The `destination` section: one of the registered destinations' own sections, told apart by `type`. */
const destinationSchema = z.discriminatedUnion(
  'type',
  destinationSections.map((s) => s.configSchema) as unknown as ConfigSchemas<typeof destinationSections>,
);

/**
 * The `streams` section. Its checks run even when an entry (or another section) has problems of
 * its own (`when`), so that an unknown stream is listed with every other problem; they read the
 * entries defensively for that reason.
 */
const streamsSchema = z.record(z.string(), streamOptions.prefault({})).superRefine(
  (streams, ctx) => {
    for (const [name, value] of Object.entries(streams)) {
      const opts = (value ?? {}) as Partial<StreamOptions>;
      const schema = findStreamSchema(name);
      const at = [name];
      if (!schema) {
        ctx.addIssue({
          code: 'custom',
          path: at,
          message: `unknown stream; known streams: ${streamSchemas.map((s) => s.name).join(', ')}`,
        });
        continue;
      }
      if (typeof opts.path === 'string' && !schema.apiPaths.includes(opts.path)) {
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'path'],
          message: `must be one of ${schema.apiPaths.join(', ')}`,
        });
      }
      if (opts.channels && !schema.accepts.channels) {
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'channels'],
          message: `${name} does not accept channels`,
        });
      }
      for (const key of Object.keys(opts.filters && typeof opts.filters === 'object' ? opts.filters : {})) {
        if (!schema.accepts.filters.includes(key)) {
          ctx.addIssue({
            code: 'custom',
            path: [...at, 'filters', key],
            message: schema.accepts.filters.length
              ? `${name} accepts only the filters ${schema.accepts.filters.join(', ')}`
              : `${name} accepts no filters`,
          });
        }
      }
    }
  },
  { when: () => true },
);

const accountSchema = z
  .strictObject(accountFields)
  .refine(hasApiBaseOrRegion, apiBaseOrRegion)
  .refine(leavesOneExport, reserveBelowQuota);

/**
 * An entry of `accounts:`: the settings of `account:`, and its own `streams:` that override or
 * disable the top-level ones for this account.
 */
const accountEntrySchema = z
  .strictObject({ ...accountFields, streams: streamsSchema.optional() })
  .refine(hasApiBaseOrRegion, apiBaseOrRegion)
  .refine(leavesOneExport, reserveBelowQuota);

export const configSchema = z
  .strictObject({
    account: accountSchema
      .optional()
      .describe('one CXone account; exactly one of account and accounts is set'),
    accounts: z
      .record(z.string(), accountEntrySchema.meta({ docKey: 'account' }))
      .superRefine(
        (accounts, ctx) => {
          for (const key of Object.keys(accounts ?? {})) {
            if (!accountKeyPattern.test(key))
              ctx.addIssue({
                code: 'custom',
                path: [key],
                message: `not an account key: ${JSON.stringify(key)} (letters, digits, dot, dash, underscore; 1-64)`,
              });
          }
        },
        { when: () => true },
      )
      .optional()
      .describe(
        'several accounts, by key (the `_account` value and the ledger key): each entry takes every setting of account, and its own streams over the top-level ones; `name`, if set, equals the key',
      ),
    parallelAccounts: z.number().int().min(1).max(64).default(4).describe('accounts one sync serves at once'),
    archive: z
      .strictObject({
        dir: z.string().default('./.cxone-od-sync/archive').meta({
          description: 'where the raw CSVs are kept, for replay',
          defaultText: '`CXONE_OD_SYNC_ARCHIVE_DIR` when set, else `./.cxone-od-sync/archive`',
        }),
        keepDays: z
          .number()
          .int()
          .min(0)
          .default(30)
          .describe('days an archived file is kept after its load'),
        minFreeMB: z
          .number()
          .min(0)
          .default(100)
          .describe('free space check and sync require in archive.dir before spending an export'),
      })
      .prefault({})
      .describe('the raw files of every export, kept for replay'),
    state: z
      .strictObject({
        url: z.string().min(1).refine(isPostgresUrl, { error: postgresUrlHint }).optional().meta({
          description:
            'the PostgreSQL state store (schema cxone_od_sync): a postgres:// or postgresql:// URL (a Unix socket: postgres://user@/db?host=/var/run/postgresql), a special character in the password percent-encoded',
          defaultText: "the destination's URL",
        }),
        maxConnections: z
          .number()
          .int()
          .min(1)
          .max(100)
          .default(2)
          .describe('connections each process opens to the state store at most'),
        runsKeepDays: z
          .number()
          .int()
          .min(1)
          .default(90)
          .describe(
            'days a run stays in the run log (runs), pruned by sync and prune; the latest 10 runs of each account and command are always kept',
          ),
        rejectedRowsKeepDays: z
          .number()
          .int()
          .min(0)
          .default(365)
          .describe(
            'days a rejected row (rejected_rows) is kept after the load that set it aside, pruned by sync and prune; the export ledger itself is kept for ever',
          ),
      })
      .prefault({})
      .describe("the connector's own tables: the export ledger, watermarks, quota, run log"),
    destination: destinationSchema.describe('where the tables go: one of the destinations, by type'),
    defaults: z
      .strictObject({
        lookback: duration.default(86_400_000).meta({ description: 'per-stream default', defaultText: '1d' }),
        settle: duration.default(900_000).meta({ description: 'per-stream default', defaultText: '15m' }),
        schemaDrift: schemaDrift.default('evolve').describe('per-stream default'),
        maxRejectedRatio: z.number().min(0).max(1).default(0.01).describe('per-stream default'),
        timeZone: timeZone.default('UTC').describe('per-stream default'),
      })
      .prefault({})
      .describe("what a stream's own options default to"),
    streams: streamsSchema
      .optional()
      .meta({ description: 'the streams to sync, by name, with their options', defaultText: 'all four' }),
    lineage: z
      .strictObject({
        url: z
          .url({ protocol: /^https?$/, error: 'not an http(s) URL (lineage.url, or OPENLINEAGE_URL)' })
          .optional()
          .meta({
            description:
              'an OpenLineage backend (Marquez, a collector): every load is sent as a run to POST {url}/{endpoint}; unset (and no file): no lineage',
            defaultText: '`OPENLINEAGE_URL`',
          }),
        endpoint: z.string().min(1).optional().meta({
          description: 'the path under url',
          defaultText: '`OPENLINEAGE_ENDPOINT`, else `api/v1/lineage`',
        }),
        apiKey: z.string().min(1).optional().meta({
          description:
            'sent as Authorization: Bearer; a secret. OPENLINEAGE_API_KEY fills it only when lineage.url is not set either',
          defaultText: '`OPENLINEAGE_API_KEY`',
        }),
        namespace: z.string().min(1).optional().meta({
          description: 'the namespace of the jobs `cxone-od-sync.<account>.<stream>`',
          defaultText: '`OPENLINEAGE_NAMESPACE`, else `cxone-od-sync`',
        }),
        file: z
          .string()
          .min(1)
          .optional()
          .describe('also (or only) append every event to this file, one JSON line each'),
        timeoutMs: z
          .number()
          .int()
          .min(1)
          .max(60_000)
          .default(5_000)
          .describe('the most one event may take; a backend down or slow never fails a sync'),
      })
      .optional()
      .describe('OpenLineage events of every load; the OPENLINEAGE_* variables fill what is not set here'),
  })
  .superRefine((cfg, ctx) => {
    if ((cfg.account === undefined) === (cfg.accounts === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [cfg.account ? 'accounts' : 'account'],
        message: cfg.account
          ? 'set either account (one account) or accounts (several, by key), not both'
          : 'set account (one account) or accounts (several, by key)',
      });
    } else if (cfg.accounts && Object.keys(cfg.accounts).length === 0) {
      ctx.addIssue({ code: 'custom', path: ['accounts'], message: 'name at least one account' });
    }
    for (const [key, a] of Object.entries(cfg.accounts ?? {})) {
      if (a.name !== undefined && a.name !== key)
        ctx.addIssue({
          code: 'custom',
          path: ['accounts', key, 'name'],
          message: `an account's key is its name: leave name out or set it to ${key}`,
        });
    }
    if (
      !cfg.state.url &&
      destinationSection(cfg.destination.type).databaseUrl(cfg.destination) === undefined
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['state', 'url'],
        message: 'a PostgreSQL state store URL is required when the destination is not PostgreSQL',
      });
    }
  });

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type StreamOptions = z.output<typeof streamOptions>;
/** One account's validated settings (`account:` or an entry of `accounts:`, without its streams). */
export type AccountSettings = z.output<typeof accountSchema>;
