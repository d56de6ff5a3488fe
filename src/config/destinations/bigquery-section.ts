import { z } from 'zod';
import type { DestinationSection } from '../../ports/destination.js';

/** The `destination` config section of a BigQuery destination (`type: bigquery`). */
export const bigqueryConfigSchema = z.strictObject({
  type: z.literal('bigquery'),
  projectId: z.string().min(1).describe('the Google Cloud project'),
  dataset: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,1024}$/)
    .describe('the dataset of the tables (created when missing); state.url is then required'),
  location: z
    .string()
    .min(1)
    .default('US')
    .describe('where the dataset and every job live (US, EU, europe-west3, ...)'),
  keyFile: z
    .string()
    .optional()
    .meta({ description: 'a service-account key file', defaultText: 'application default credentials' }),
  apiEndpoint: z.url().optional().meta({
    description: 'another BigQuery REST endpoint: an emulator, a private endpoint',
    defaultText: "Google's",
  }),
});

/** A validated BigQuery `destination` section. */
export type BigQueryConfig = z.output<typeof bigqueryConfigSchema>;

/**
 * The BigQuery destination's section (`destination.type: bigquery`). It writes no PostgreSQL
 * database, so the state store needs its own `state.url` and the state commits after the data.
 */
export const bigquerySection: DestinationSection<typeof bigqueryConfigSchema> = {
  type: 'bigquery',
  configSchema: bigqueryConfigSchema,
  databaseUrl: () => undefined,
  tableLocation: (config) => ({
    database: config.projectId,
    schema: config.dataset,
    textKey: (columns) => `concat(${columns.map((c) => `cast(${c} as string)`).join(", ':', ")})`,
  }),
};
