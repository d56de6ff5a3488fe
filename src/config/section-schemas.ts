import { z } from 'zod';
import { ianaZone } from '../parse/value-parsers.js';
import { defaultRetryPolicy } from '../retry/retry.js';
import { parseDuration } from './duration.js';
import { readIsoInstant } from './iso-instant.js';

/**
 * The config's building blocks: its value types (durations, dates, time zones), a stream's options
 * and an account's settings, with their checks. `config-schema.ts` assembles the file from them.
 */

export const duration = z
  .union([z.string(), z.number()])
  .meta({ docType: 'duration' })
  .transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `not a duration: ${JSON.stringify(v)} (use e.g. 15m, 2h, 1d)`,
      });
      return z.NEVER;
    }
    return ms;
  });

/** A date or date-time as the CLI's flags take it (UTC unless it has an offset); a calendar's impossible date is refused. */
const isoDate = z
  .union([z.string(), z.date()])
  .meta({ docType: 'date' })
  .transform((v, ctx) => {
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

export const timeZone = z.string().refine((tz) => ianaZone(tz) !== undefined, {
  message: 'not an IANA time zone name (e.g. UTC, America/New_York)',
});

export const schemaDrift = z.enum(['evolve', 'ignore', 'fail']);

export const streamOptions = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe('false turns the stream off; an entry enables it unless it says false'),
  start: isoDate.optional().meta({
    description:
      'where the stream begins when it has no watermark: ISO 8601, UTC unless it has an offset; not in the future (more than 14 h ahead is an error)',
    defaultText: 'the 4-month horizon',
  }),
  timeZone: timeZone.optional().meta({
    description: 'the IANA time zone of wall-clock times in the files',
    defaultText: '`defaults.timeZone`',
  }),
  channels: z
    .array(z.enum(['digital', 'voice']))
    .optional()
    .meta({ description: 'only these channels (copilot_kb, copilot_as)', defaultText: 'all' }),
  filters: z.record(z.string(), z.array(z.string())).optional().meta({
    description:
      'the vendor filters: copilot_kb, copilot_as: Team, Skill, CopilotProfileId, AgentNumber; copilot_aq: CopilotProfileId, AgentNumber',
    defaultText: 'none',
  }),
  path: z.string().optional().meta({
    description: 'the API path, for a stream that has two (autopilot_gr)',
    defaultText: 'its first',
  }),
  lookback: duration.optional().meta({
    description: 'how far back each window reaches before the watermark, for late rows',
    defaultText: '`defaults.lookback`',
  }),
  settle: duration.optional().meta({
    description: 'how long before now a window ends, so the vendor has the data',
    defaultText: '`defaults.settle`',
  }),
  maxWindowDays: z
    .number()
    .int()
    .positive()
    .optional()
    .meta({ description: 'the longest window one export asks for', defaultText: 'no limit' }),
  weight: z
    .number()
    .positive()
    .max(100)
    .optional()
    .meta({ description: "the stream's share of the quota, against the others' weights", defaultText: '1' }),
  minInterval: duration.optional().meta({
    description: 'the least new data worth an export',
    defaultText: 'half the fair-share interval',
  }),
  schemaDrift: schemaDrift.optional().meta({
    description: 'what a new or missing header does: evolve (add the column), ignore, or fail',
    defaultText: '`defaults.schemaDrift`',
  }),
  maxRejectedRatio: z.number().min(0).max(1).optional().meta({
    description: 'the share of bad rows past which the file is refused as a whole',
    defaultText: '`defaults.maxRejectedRatio`',
  }),
});

/** An account's key: the `accounts:` map key, or `account.name`. */
export const accountKeyPattern = /^[A-Za-z0-9._-]{1,64}$/;
const accountKey = z.string().regex(accountKeyPattern, 'letters, digits, dot, dash, underscore (1-64)');

/** One CXone account's settings: `account:`, or an entry of `accounts:`. */
export const accountFields = {
  name: accountKey.optional().meta({
    description:
      'the quota and ledger key; give every process sharing one CXone account the same name (letters, digits, dot, dash, underscore; 1-64)',
    defaultText: 'a hash of apiBase and accessKey',
  }),
  authUrl: z.url().default('https://cxone.niceincontact.com/auth/token').describe('the token endpoint'),
  apiBase: z.url().optional().meta({
    description: 'the API base, e.g. https://api-na1.niceincontact.com; this or region is required',
    defaultText: 'from region',
  }),
  region: z
    .string()
    .regex(/^[a-z]{2}\d{1,2}$/, 'a CXone area such as na1, eu1, au1')
    .optional()
    .meta({ description: 'the CXone area (na1, eu1, au1, ...), when apiBase is not set' }),
  clientId: z.string().min(1).describe('the API application credentials; use ${ENV} or ENV_FILE'),
  clientSecret: z.string().min(1).describe('a secret: use ${ENV} or ENV_FILE; redacted everywhere'),
  accessKey: z.string().min(1).describe("the user's access key"),
  accessSecret: z.string().min(1).describe('a secret: use ${ENV} or ENV_FILE; redacted everywhere'),
  clientAuth: z
    .enum(['post', 'basic'])
    .default('post')
    .describe('how the client credentials go to the token endpoint: post (client_secret_post) or basic'),
  exportsPer24h: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(3)
    .describe("the account's rolling 24-hour export quota"),
  reserveForOthers: z
    .number()
    .int()
    .min(0)
    .max(999)
    .default(0)
    .describe(
      'exports per 24 h the connector never uses, left to people exporting from the dashboard and other tools; less than exportsPer24h',
    ),
  historyAuthorized: z.boolean().default(false).describe('NICE authorised exports older than 4 months'),
  horizonMarginDays: z
    .number()
    .min(1, {
      error:
        'must be at least 1 (day): the API counts its 4 months its own way, up to about a day apart from the connector, so with less every first request of a stream that starts at the horizon is refused',
    })
    .max(30)
    .default(1)
    .describe(
      'days kept inside the 4-month horizon, at least 1: the vendor counts its 4 months its own way, up to a day apart from the connector',
    ),
  allowedDownloadHosts: z.array(z.string().min(1)).optional().meta({
    description:
      'download URL hosts accepted (https only); an apiBase on an IP address allows exactly that address and *.amazonaws.com',
    defaultText: 'the API host, `*.` its domain, `*.amazonaws.com`',
  }),
  allowInsecureDownloads: z
    .boolean()
    .default(false)
    .describe(
      'accept plain-http download URLs on allowed hosts (a simulator in a container); never for real accounts',
    ),
  pollIntervalSeconds: z.number().positive().default(5).describe('the first wait between status polls'),
  pollMaxIntervalSeconds: z
    .number()
    .positive()
    .default(60)
    .describe('the longest wait between status polls (each wait grows by half)'),
  pollTimeoutMinutes: z
    .number()
    .positive()
    .default(30)
    .describe('how long one run polls an export; one still processing then stays in flight (exit 75)'),
  httpMaxAttempts: z
    .number()
    .int()
    .min(1)
    .max(20)
    .default(defaultRetryPolicy.maxAttempts)
    .describe('attempts of a call that gets a 429, a 5xx or a network error'),
  httpRetryBaseMs: z
    .number()
    .int()
    .min(1)
    .default(defaultRetryPolicy.baseDelayMs)
    .describe('the first backoff between attempts (exponential, with jitter; Retry-After wins)'),
  httpTimeoutSeconds: z.number().positive().default(120).describe('the most one HTTP call may take'),
  httpMaxRetryAfterSeconds: z.number().positive().optional().meta({
    description: 'the longest Retry-After waited for; a longer one is cut to it',
    defaultText: '120',
  }),
};

export const hasApiBaseOrRegion = (a: { apiBase?: string | undefined; region?: string | undefined }) =>
  a.apiBase !== undefined || a.region !== undefined;
export const apiBaseOrRegion = {
  message: 'set apiBase (e.g. https://api-na1.niceincontact.com) or region (e.g. na1)',
  path: ['apiBase'],
};

export const leavesOneExport = (a: { exportsPer24h: number; reserveForOthers: number }) =>
  a.reserveForOthers < a.exportsPer24h;
export const reserveBelowQuota = {
  message: 'must be less than exportsPer24h: the connector needs at least one export per 24 hours',
  path: ['reserveForOthers'],
};
