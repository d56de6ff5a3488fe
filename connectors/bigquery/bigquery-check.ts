import type { BigQuery, Dataset } from '@google-cloud/bigquery';
import { StoreError } from '../../src/errors.js';
import type { StreamSchema } from '../../src/model/stream-schema.js';
import type { BigQueryDestinationOptions } from './bigquery-config.js';

/** Permissions a sync needs on a stream's table (checked by `check` where the table exists). */
const tablePermissions = [
  'bigquery.tables.get',
  'bigquery.tables.getData',
  'bigquery.tables.updateData',
  'bigquery.tables.update',
];

/**
 * `BigQueryDestination.check`: reads the dataset, dry-runs a query (may this identity run jobs
 * in the project?), and tests the permissions a sync needs on every stream table that exists.
 * Changes nothing; `error` wraps a failed call as the destination's StoreError.
 */
export async function checkDataset(
  api: { readonly bq: BigQuery; readonly dataset: Dataset },
  options: BigQueryDestinationOptions,
  streams: readonly StreamSchema[],
  error: (what: string, err: unknown) => StoreError,
): Promise<string> {
  const { bq, dataset } = api;
  const datasetName = `${options.projectId}.${options.dataset}`;
  let exists: boolean;
  try {
    [exists] = await dataset.exists();
  } catch (err) {
    throw error(`cannot read dataset ${datasetName} (destination.projectId, destination.dataset)`, err);
  }
  // A dry run checks that this identity may run jobs in the project, and costs nothing.
  try {
    await bq.createQueryJob({ query: 'SELECT 1', dryRun: true, location: options.location });
  } catch (err) {
    throw error(
      `cannot run query jobs in project ${options.projectId} (destination.projectId); grant roles/bigquery.jobUser`,
      err,
    );
  }
  if (!exists)
    return `dataset ${datasetName} does not exist yet; the first sync creates it in ${options.location} (needs bigquery.datasets.create, e.g. roles/bigquery.dataEditor on the project)`;
  const missing: string[] = [];
  for (const s of streams) {
    const table = dataset.table(s.name);
    try {
      const [found] = await table.exists();
      if (!found) continue;
      const [resp] = await table.testIamPermissions(tablePermissions);
      const granted = new Set(resp.permissions ?? []);
      const lacking = tablePermissions.filter((p) => !granted.has(p));
      if (lacking.length) missing.push(`${s.name}: ${lacking.join(', ')}`);
    } catch (err) {
      throw error(`cannot inspect table ${datasetName}.${s.name}`, err);
    }
  }
  if (missing.length)
    throw new StoreError(
      `missing BigQuery permissions in dataset ${datasetName} (grant roles/bigquery.dataEditor): ${missing.join('; ')}`,
    );
  return `dataset ${datasetName} (${options.location}) readable and writable`;
}
