import { existsSync } from 'node:fs';
import { bigquerySection } from '../../src/config/destinations/bigquery-section.js';
import { ConfigError } from '../../src/errors.js';
import type { DestinationFactory } from '../../src/ports/destination.js';
import { BigQueryDestination } from './bigquery-destination.js';

/** The BigQuery destination (`destination.type: bigquery`), on its config section. */
export const bigqueryDestinationFactory: DestinationFactory<typeof bigquerySection.configSchema> = {
  ...bigquerySection,
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
