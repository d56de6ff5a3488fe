import { z } from 'zod';
import type { DestinationSection } from '../../ports/destination.js';

/** The `destination` config section of a PostgreSQL destination (`type: postgres`). */
export const postgresConfigSchema = z.strictObject({
  type: z.literal('postgres'),
  url: z.string().min(1).describe('the PostgreSQL database the tables go to (a postgres:// URL)'),
  schema: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'a plain SQL identifier')
    .default('cxone')
    .describe('the schema of the tables'),
  /** The destination's `copy` capability follows it, and is false whatever it says over the embedded database. */
  copy: z
    .boolean()
    .default(true)
    .describe('false for PostgreSQL-compatible servers without COPY FROM STDIN: batched INSERTs instead'),
  maxConnections: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(4)
    .describe('connections each process opens to the destination at most: one per load in flight'),
});

/** A validated PostgreSQL `destination` section. */
export type PostgresConfig = z.output<typeof postgresConfigSchema>;

/**
 * The database a PostgreSQL URL names: its path, else (as libpq and node-postgres do) the user's
 * name; a `key=value` connection string's `dbname`.
 */
export function postgresDatabaseName(url: string): string {
  try {
    const u = new URL(url);
    return decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres';
  } catch {
    return /(?:^|\s)dbname\s*=\s*'?([^'\s]+)/.exec(url)?.[1] ?? 'postgres';
  }
}

/** The PostgreSQL destination's section (`destination.type: postgres`): its database can hold the state store too. */
export const postgresSection: DestinationSection<typeof postgresConfigSchema> = {
  type: 'postgres',
  configSchema: postgresConfigSchema,
  databaseUrl: (config: PostgresConfig) => config.url,
  tableLocation: (config) => ({
    database: postgresDatabaseName(config.url),
    schema: config.schema,
    textKey: (columns) => `concat_ws(':', ${columns.join(', ')})`,
  }),
};
