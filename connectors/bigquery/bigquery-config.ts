import type { BigQueryOptions } from '@google-cloud/bigquery';
import type { Sleep } from '../../src/retry/retry.js';

/** What a `BigQueryDestination` is created with: its config section, and knobs for tests. */
export interface BigQueryDestinationOptions {
  readonly projectId: string;
  readonly dataset: string;
  /** Where the dataset and every job live (`US`, `EU`, `europe-west3`, ...). */
  readonly location: string;
  /** A service-account key file; without it, application default credentials. */
  readonly keyFile?: string;
  /** Another endpoint than Google's (an emulator, or the contract tests' server). */
  readonly apiEndpoint?: string;
  /** An auth client to use instead of the key file or ADC (tests). */
  readonly authClient?: BigQueryOptions['authClient'];
  /** How often a running job is polled (default 1 s, doubling to 10 s). */
  readonly pollIntervalMs?: number;
  /** How long a job may run before the load is abandoned (default 30 min). */
  readonly jobTimeoutMs?: number;
  /** Attempts of a job insertion whose response was lost or refused with 429/5xx (default 4). */
  readonly insertAttempts?: number;
  /** The wait between insert attempts and job polls (tests pass a fast one). */
  readonly sleep?: Sleep;
}
