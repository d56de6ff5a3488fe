import type { DestinationFactory } from '../../src/ports/destination.js';
import { type PostgresConfig, postgresConfigSchema, postgresDatabaseName } from './postgres-config.js';
import { PostgresDestination } from './postgres-destination.js';

/**
 * The PostgreSQL destination (`destination.type: postgres`). Its database can hold the state
 * store too, and the embedded PGlite pool of `demo` can stand in for it.
 */
export const postgresDestinationFactory: DestinationFactory<typeof postgresConfigSchema> = {
  type: 'postgres',
  configSchema: postgresConfigSchema,
  databaseUrl: (config: PostgresConfig) => config.url,
  tableLocation: (config) => ({
    database: postgresDatabaseName(config.url),
    schema: config.schema,
    textKey: (columns) => `concat_ws(':', ${columns.join(', ')})`,
  }),
  create: (config, context) =>
    new PostgresDestination({
      url: context.pool ?? config.url,
      schema: config.schema,
      sharesStateDatabase: context.stateUrl === config.url,
      copy: config.copy,
      maxConnections: config.maxConnections,
    }),
};
