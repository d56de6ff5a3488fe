import { postgresSection } from '../../src/config/destinations/postgres-section.js';
import type { DestinationFactory } from '../../src/ports/destination.js';
import { PostgresDestination } from './postgres-destination.js';

/**
 * The PostgreSQL destination (`destination.type: postgres`), on its config section. Its database
 * can hold the state store too, and the embedded PGlite pool of `demo` can stand in for it.
 */
export const postgresDestinationFactory: DestinationFactory<typeof postgresSection.configSchema> = {
  ...postgresSection,
  create: (config, context) =>
    new PostgresDestination({
      url: context.pool ?? config.url,
      schema: config.schema,
      sharesStateDatabase: context.stateUrl === config.url,
      copy: config.copy,
      maxConnections: config.maxConnections,
    }),
};
