/**
 * Every environment variable the connector reads, and the ones around it that matter to it
 * (docs/reference/environment.md). A test finds every variable the code reads and fails when one
 * is missing here; `external` marks the ones read by something else (Node, Google's library, the
 * tests, the example DAGs).
 */
export interface EnvironmentVariable {
  readonly name: string;
  readonly readBy: string;
  readonly meaning: string;
  readonly external?: boolean;
  /** A test hook: never set in production. */
  readonly testHook?: boolean;
}

export const environmentVariables: readonly EnvironmentVariable[] = [
  {
    name: 'VAR',
    readBy: 'the config',
    meaning:
      'any variable written `${VAR}` (or `${VAR:-default}`) in the config file: its value. The example config uses `CXONE_CLIENT_ID`, `CXONE_CLIENT_SECRET`, `CXONE_ACCESS_KEY`, `CXONE_ACCESS_SECRET` and `DATABASE_URL`',
    external: true,
  },
  {
    name: 'VAR_FILE',
    readBy: 'the config',
    meaning: "a file holding `VAR`'s value when `VAR` is unset or empty (Docker and Kubernetes secrets)",
    external: true,
  },
  {
    name: 'CXONE_OD_SYNC_ARCHIVE_DIR',
    readBy: 'the config',
    meaning:
      '`archive.dir` when the config does not set it (the container image sets `/var/lib/cxone-od-sync/archive`)',
  },
  {
    name: 'CXONE_OD_SYNC_LOG_LEVEL',
    readBy: 'every command',
    meaning: '`debug`, `info` (default), `warn` or `error`; `--log-level` wins',
  },
  {
    name: 'CXONE_OD_SYNC_DEBUG',
    readBy: 'every command',
    meaning: "any value: an unexpected error (exit 1, not one of the program's own) is logged with its stack",
  },
  {
    name: 'OPENLINEAGE_URL',
    readBy: '`sync`, `replay`, `load-file`',
    meaning: '`lineage.url` when the config sets none',
  },
  {
    name: 'OPENLINEAGE_ENDPOINT',
    readBy: '`sync`, `replay`, `load-file`',
    meaning: '`lineage.endpoint` when the config sets no `lineage.url`',
  },
  {
    name: 'OPENLINEAGE_API_KEY',
    readBy: '`sync`, `replay`, `load-file`',
    meaning: '`lineage.apiKey` (or `OPENLINEAGE_API_KEY_FILE`), unless the config sets a `lineage.url`',
  },
  {
    name: 'OPENLINEAGE_NAMESPACE',
    readBy: '`sync`, `replay`, `load-file`',
    meaning: '`lineage.namespace` when the config sets none',
  },
  {
    name: 'OPENLINEAGE_PARENT_ID',
    readBy: '`sync`, `replay`, `load-file`',
    meaning:
      "the orchestrator's run, `{namespace}/{job}/{run id}` (Airflow's `lineage_parent_id`): the parent of each lineage run",
  },
  {
    name: 'OPENLINEAGE_ROOT_PARENT_ID',
    readBy: '`sync`, `replay`, `load-file`',
    meaning: 'the root run, in the same form (`lineage_root_parent_id`), given with the parent',
  },
  {
    name: 'OPENLINEAGE_DISABLED',
    readBy: '`sync`, `replay`, `load-file`',
    meaning: '`true`: no lineage events, whatever the config says',
  },
  {
    name: 'GOOGLE_APPLICATION_CREDENTIALS',
    readBy: "Google's client library (BigQuery, no `keyFile`)",
    meaning: 'a service-account key file for application default credentials',
    external: true,
  },
  {
    name: 'NODE_OPTIONS',
    readBy: 'Node',
    meaning: 'the container image sets `--max-old-space-size=128 --max-semi-space-size=8`',
    external: true,
  },
  {
    name: 'CXONE_OD_SYNC_CONFIG',
    readBy: 'the example DAGs and their task script',
    meaning:
      'the config file the Airflow worker syncs with (default `/etc/cxone-od-sync/cxone-od-sync.yaml`)',
    external: true,
  },
  {
    name: 'CXONE_OD_SYNC',
    readBy: "the example DAGs' task script",
    meaning:
      'the command that runs the CLI (default `cxone-od-sync`), e.g. `node /opt/cxone-od-sync/dist/src/cli/main.js`',
    external: true,
  },
  {
    name: 'CXONE_OD_SYNC_DAG_DIR',
    readBy: 'the example DAGs',
    meaning: 'set by the DAGs for their tasks: the folder of the task script (never set it yourself)',
    external: true,
  },
  {
    name: 'CXONE_OD_SYNC_TEST_PAUSE_AFTER_ROWS',
    readBy: '`sync`',
    meaning: 'pauses a load after N rows, so that a test can kill it in the middle',
    testHook: true,
  },
  {
    name: 'CXONE_OD_SYNC_LEDGER_RETRY_BASE_MS',
    readBy: '`sync`',
    meaning: 'shortens the backoff of the ledger write that records an accepted export',
    testHook: true,
  },
  {
    name: 'CXONE_OD_SYNC_TEST_STOP_GRACE_MS',
    readBy: '`sync`',
    meaning: 'the SIGTERM/SIGINT grace in milliseconds instead of 30 s, so that a test can see it run out',
    testHook: true,
  },
  {
    name: 'TEST_DATABASE_URL, DATABASE_URL',
    readBy: 'the test suite',
    meaning: 'a PostgreSQL server the tests may create databases on; none: embedded PGlite',
    external: true,
  },
  {
    name: 'CXONE_TEST_WORKERS',
    readBy: 'the test suite',
    meaning: 'test files run at once (default 4)',
    external: true,
  },
  {
    name: 'BIGQUERY_TEST_PROJECT, BIGQUERY_TEST_LOCATION',
    readBy: 'the live BigQuery tests',
    meaning: 'run `test/live` against real BigQuery',
    external: true,
  },
  {
    name: 'CXONE_OD_SYNC_PYTHON, XDG_CACHE_HOME',
    readBy: '`npm run test:ecosystem`',
    meaning:
      "the Python that makes the suite's venv (default `python3`), and where the venv is kept (`$XDG_CACHE_HOME/cxone-od-sync`, default `~/.cache`)",
    external: true,
  },
  {
    name: 'BENCH_DATABASE_URL',
    readBy: '`npm run bench`',
    meaning: "the benchmark's server (else `DATABASE_URL`, else the local one)",
    external: true,
  },
];
