import { z } from 'zod';
import { destinationFactories, destinationFactory } from '../../connectors/destinations.js';
import { findStreamSchema, streamSchemas } from '../../schemas/index.js';
import { ianaZone } from '../parse/value-parsers.js';
import { defaultRetryPolicy } from '../retry/retry.js';
import { parseDuration } from './duration.js';
import { readIsoInstant } from './iso-instant.js';
import { isPostgresUrl, postgresUrlHint } from './postgres-url.js';

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `not a duration: ${JSON.stringify(v)} (use e.g. 15m, 2h, 1d)` });
    return z.NEVER;
  }
  return ms;
});

/** A date or date-time as the CLI's flags take it (UTC unless it has an offset); a calendar's impossible date is refused. */
const isoDate = z.union([z.string(), z.date()]).transform((v, ctx) => {
  const read = v instanceof Date ? { date: v } : readIsoInstant(v);
  if ('problem' in read || Number.isNaN(read.date.getTime())) {
    ctx.addIssue({
      code: 'custom',
      message: `not a date: ${JSON.stringify(v)}${'problem' in read ? `: ${read.problem}` : ''} (use YYYY-MM-DD or ISO 8601, e.g. 2026-11-01T00:00:00Z)`,
    });
    return z.NEVER;
  }
  return read.date;
});

const timeZone = z.string().refine((tz) => ianaZone(tz) !== undefined, {
  message: 'not an IANA time zone name (e.g. UTC, America/New_York)',
});

const schemaDrift = z.enum(['evolve', 'ignore', 'fail']);

const streamOptions = z.strictObject({
  enabled: z.boolean().default(true),
  start: isoDate.optional(),
  timeZone: timeZone.optional(),
  channels: z.array(z.enum(['digital', 'voice'])).optional(),
  filters: z.record(z.string(), z.array(z.string())).optional(),
  path: z.string().optional(),
  lookback: duration.optional(),
  settle: duration.optional(),
  maxWindowDays: z.number().int().positive().optional(),
  weight: z.number().positive().max(100).optional(),
  minInterval: duration.optional(),
  schemaDrift: schemaDrift.optional(),
  maxRejectedRatio: z.number().min(0).max(1).optional(),
});

/** An account's key: the `accounts:` map key, or `account.name`. */
const accountKeyPattern = /^[A-Za-z0-9._-]{1,64}$/;
const accountKey = z.string().regex(accountKeyPattern, 'letters, digits, dot, dash, underscore (1-64)');

/** One CXone account's settings: `account:`, or an entry of `accounts:`. */
const accountFields = {
  name: accountKey.optional(),
  authUrl: z.url().default('https://cxone.niceincontact.com/auth/token'),
  apiBase: z.url().optional(),
  region: z
    .string()
    .regex(/^[a-z]{2}\d{1,2}$/, 'a CXone area such as na1, eu1, au1')
    .optional(),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  accessKey: z.string().min(1),
  accessSecret: z.string().min(1),
  clientAuth: z.enum(['post', 'basic']).default('post'),
  exportsPer24h: z.number().int().min(1).max(1000).default(3),
  /** Exports per 24 h the connector never uses: left to people exporting from the dashboard, other tools. */
  reserveForOthers: z.number().int().min(0).max(999).default(0),
  historyAuthorized: z.boolean().default(false),
  /** Days kept inside the 4-month horizon: the vendor counts 4 months its own way, up to a day apart from ours. */
  horizonMarginDays: z
    .number()
    .min(1, {
      error:
        'must be at least 1 (day): the API counts its 4 months its own way, up to about a day apart from the connector, so with less every first request of a stream that starts at the horizon is refused',
    })
    .max(30)
    .default(1),
  allowedDownloadHosts: z.array(z.string().min(1)).optional(),
  /** Accept plain-http download URLs on allowed hosts (a simulator in a container); never for real accounts. */
  allowInsecureDownloads: z.boolean().default(false),
  pollIntervalSeconds: z.number().positive().default(5),
  pollMaxIntervalSeconds: z.number().positive().default(60),
  pollTimeoutMinutes: z.number().positive().default(30),
  httpMaxAttempts: z.number().int().min(1).max(20).default(defaultRetryPolicy.maxAttempts),
  httpRetryBaseMs: z.number().int().min(1).default(defaultRetryPolicy.baseDelayMs),
  httpTimeoutSeconds: z.number().positive().default(120),
  /** The longest Retry-After waited for (default 120 s); a longer one is cut to it. */
  httpMaxRetryAfterSeconds: z.number().positive().optional(),
};

const hasApiBaseOrRegion = (a: { apiBase?: string | undefined; region?: string | undefined }) =>
  a.apiBase !== undefined || a.region !== undefined;
const apiBaseOrRegion = {
  message: 'set apiBase (e.g. https://api-na1.niceincontact.com) or region (e.g. na1)',
  path: ['apiBase'],
};

const leavesOneExport = (a: { exportsPer24h: number; reserveForOthers: number }) =>
  a.reserveForOthers < a.exportsPer24h;
const reserveBelowQuota = {
  message: 'must be less than exportsPer24h: the connector needs at least one export per 24 hours',
  path: ['reserveForOthers'],
};

type ConfigSchemas<T extends readonly unknown[]> = {
  -readonly [K in keyof T]: T[K] extends { configSchema: infer S } ? S : never;
};

/** The `destination` section: one of the registered destinations' own sections, told apart by `type`. */
const destinationSchema = z.discriminatedUnion(
  'type',
  destinationFactories.map((f) => f.configSchema) as unknown as ConfigSchemas<typeof destinationFactories>,
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
    /** One account (its key: `name`, or a hash of the API base and access key). */
    account: accountSchema.optional(),
    /** Several accounts, by key; exactly one of `account` and `accounts` is set. */
    accounts: z
      .record(z.string(), accountEntrySchema)
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
      .optional(),
    /** Accounts a sync serves at once. */
    parallelAccounts: z.number().int().min(1).max(64).default(4),
    archive: z
      .strictObject({
        dir: z.string().default('./.cxone-od-sync/archive'),
        keepDays: z.number().int().min(0).default(30),
        minFreeMB: z.number().min(0).default(100),
      })
      .prefault({}),
    state: z
      .strictObject({
        url: z.string().min(1).refine(isPostgresUrl, { error: postgresUrlHint }).optional(),
        /** Connections each process opens to the state store at most. */
        maxConnections: z.number().int().min(1).max(100).default(2),
      })
      .prefault({}),
    destination: destinationSchema,
    defaults: z
      .strictObject({
        lookback: duration.default(86_400_000),
        settle: duration.default(900_000),
        schemaDrift: schemaDrift.default('evolve'),
        maxRejectedRatio: z.number().min(0).max(1).default(0.01),
        timeZone: timeZone.default('UTC'),
      })
      .prefault({}),
    streams: streamsSchema.optional(),
    /** OpenLineage events of every load; the OPENLINEAGE_* variables fill what is not set here (lineage-config.ts). */
    lineage: z
      .strictObject({
        url: z
          .url({ protocol: /^https?$/, error: 'not an http(s) URL (lineage.url, or OPENLINEAGE_URL)' })
          .optional(),
        endpoint: z.string().min(1).optional(),
        apiKey: z.string().min(1).optional(),
        namespace: z.string().min(1).optional(),
        file: z.string().min(1).optional(),
        timeoutMs: z.number().int().min(1).max(60_000).default(5_000),
      })
      .optional(),
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
      destinationFactory(cfg.destination.type).databaseUrl(cfg.destination) === undefined
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
