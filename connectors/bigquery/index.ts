import { existsSync } from 'node:fs';
import { ConfigError } from '../../src/errors.js';
import type { DestinationFactory } from '../../src/ports/destination.js';
import { bigqueryConfigSchema } from './bigquery-config.js';
import { BigQueryDestination } from './bigquery-destination.js';

/**
 * The BigQuery destination (`destination.type: bigquery`). It writes no PostgreSQL database, so
 * the state store needs its own `state.url` and the state commits after the data.
 */
export const bigqueryDestinationFactory: DestinationFactory<typeof bigqueryConfigSchema> = {
  type: 'bigquery',
  configSchema: bigqueryConfigSchema,
  databaseUrl: () => undefined,
  tableLocation: (config) => ({
    database: config.projectId,
    schema: config.dataset,
    textKey: (columns) => `concat(${columns.map((c) => `cast(${c} as string)`).join(", ':', ")})`,
  }),
  create: (config) => {
    if (config.keyFile && !existsSync(config.keyFile))
      throw new ConfigError(`destination.keyFile: no such file: ${config.keyFile}`);
    return new BigQueryDestination({
      projectId: config.projectId,
      dataset: config.dataset,
      location: config.location,
      ...(config.keyFile ? { keyFile: config.keyFile } : {}),
      ...(config.apiEndpoint ? { apiEndpoint: config.apiEndpoint } : {}),
    });
  },
};
