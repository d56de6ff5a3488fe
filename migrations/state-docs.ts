/**
 * What every state table, view and column means (not a migration: the text migrations 0003 and
 * 0004 write into the database with `COMMENT ON`, and `dbt-sources` documents the state tables
 * with). Text for analysts: what a value is and how to join it, not how the connector computes
 * it.
 *
 * The export key (`export_key`) is the one id that links a destination row (its `_export_id`),
 * its ledger entry (`exports.export_key`) and its rejected rows (`rejected_rows.export_key`).
 */

export interface RelationDoc {
  readonly description: string;
  readonly columns: Readonly<Record<string, string>>;
}

const exportKey =
  "The export's key: the vendor's export id, or local-<ledger id> for a file loaded by load-file. Destination rows carry it as _export_id: join a row to its ledger entry and rejected rows on it.";

/** The state tables (schema `cxone_od_sync`), kysely's migration tables included. */
export const stateTableDocs: Readonly<Record<string, RelationDoc>> = {
  exports: {
    description:
      'The export ledger: one row per export request (or file loaded by hand), written before each step of its lifecycle so that a crash resumes it instead of requesting the window again.',
    columns: {
      id: 'Ledger id of the export: what replay --export, exports retry and exports abandon take, and what rejected_rows.export_id holds.',
      account:
        'Account key (its accounts: key, account.name, or a hash of the API base and access key) whose quota the request counts against.',
      stream: 'Stream the export is for; also the destination table name.',
      api_path: 'The API table path requested (for example Copilot/KBTable).',
      window_start: 'Start of the requested window (inclusive, UTC).',
      window_end:
        'End of the requested window (exclusive, UTC); the request sent this minus 1 ms as endDate.',
      time_zone: 'IANA time zone sent with the request; wall-clock times in the file are read in it.',
      request_body: 'The JSON body sent to the export endpoint (holds no secret).',
      status:
        'Where the export is: reserved, submitted, ready, downloaded (not loaded yet), loaded, or failed.',
      counts_quota:
        'Whether the request counts against the rolling 24-hour quota (false for a request that never reached the API and for files loaded by hand).',
      reserved_at: 'When the quota slot was reserved, just before the request was sent.',
      submitted_at: 'When the API accepted the request; the watermark never moves past it.',
      vendor_export_id:
        "The vendor's export id from the API's answer; null for a file loaded by hand and before the API answers.",
      status_url: 'The export status URL (without query string).',
      file_name: 'The file name the connector asked the API to give the export.',
      ready_at: 'When the API reported the export ready to download.',
      download_host: 'The host the file was downloaded from (no URL, no signature).',
      archive_path:
        'Where the raw file is archived for replay; null before the download and once archive.keepDays have pruned it.',
      bytes: 'Size of the archived file in bytes.',
      sha256: 'SHA-256 of the archived file; checked before every load and replay.',
      downloaded_at: 'When the download was archived.',
      rows: 'Rows the last load of the export put in the destination table.',
      rejected_rows: 'Rows of the file the last load set aside (see rejected_rows).',
      loaded_at: "When the load committed; the loaded rows' _loaded_at.",
      error: 'The last error of the export (redacted), kept with a failed or stuck export.',
      retryable: 'Whether the last error can go away on a retry; null without an error.',
      attempts: 'Download attempts of the current try (reset when a download succeeds or a backoff starts).',
      failures: 'Consecutive failures a retry did not cure; drives the backoff.',
      next_attempt_at: 'When a sync may try the export again (backoff); null: at once.',
      claimed_by: 'The process working on the export (host:pid:random); null when none.',
      claim_expires_at: 'When that claim lapses unless renewed.',
      updated_at: 'When the row last changed.',
      export_key: exportKey,
    },
  },
  watermarks: {
    description:
      'Per account and stream: the end of the data loaded without a hole (the watermark). A stream with no row here has never been synced, or was reset.',
    columns: {
      account: 'Account key.',
      stream: 'Stream (destination table name).',
      watermark:
        'End (exclusive, UTC) of the last window whose rows are durably loaded; the next sync starts at this minus lookback.',
      export_id: 'Ledger id of the export that moved the watermark last; null when set by hand (reset).',
      updated_at: 'When the watermark last moved.',
    },
  },
  gaps: {
    description:
      'Windows a stream can no longer get from the API (older than its 4-month horizon when the stream was planned), recorded instead of being skipped silently.',
    columns: {
      id: 'Gap id.',
      account: 'Account key.',
      stream: 'Stream (destination table name).',
      gap_start: 'Start of the missing span (inclusive, UTC).',
      gap_end: 'End of the missing span (exclusive, UTC).',
      reason: 'Why the span could not be exported.',
      recorded_at: 'When the gap was recorded.',
    },
  },
  runs: {
    description:
      'One row per run of sync, exports retry and exports abandon: when, for which account, how it ended.',
    columns: {
      id: 'Run id.',
      command: 'The command: sync, exports retry or exports abandon.',
      account: 'Account key of the run.',
      started_at: 'When the run started.',
      ended_at: 'When it ended; null while running or when the process died.',
      outcome: 'How it ended: done, deferred, failed or error.',
      exit_code: 'Its exit code (0 done, 75 deferred, 1 failed, 2 usage or config).',
      summary: 'Its JSON summary (redacted), as sync --json prints it.',
    },
  },
  rejected_rows: {
    description:
      'CSV records a load set aside (a bad value, invalid UTF-8, an event time outside the window), with the reason; the rest of the file loaded. Replaced when the export is loaded again.',
    columns: {
      id: 'Rejected row id.',
      export_id:
        'Ledger id (exports.id) of the export whose file held the record. Destination rows do not carry it: join them on export_key.',
      stream: 'Stream (destination table name).',
      line: 'Line number where the record starts in the raw CSV (the header is line 1); the _source_line it would have had.',
      raw: 'The record as read (secrets redacted).',
      reason: 'Why the record was not loaded.',
      recorded_at: 'When the load that set it aside committed.',
      export_key: exportKey,
    },
  },
  quota_blocks: {
    description:
      'Per account: a quota refusal by the API (HTTP 400 "too many export requests"); nothing is requested before blocked_until.',
    columns: {
      account: 'Account key.',
      blocked_until: 'No export request is sent for the account before this time.',
      reason: "The API's message.",
      recorded_at: 'When the refusal was recorded.',
    },
  },
  stream_schedule: {
    description:
      "Per account and stream the config names: whether it is enabled and the scheduler's next due time, written by migrate and at the end of every sync.",
    columns: {
      account: 'Account key.',
      stream: 'Stream (destination table name).',
      enabled: 'Whether the config that wrote the row enables the stream.',
      next_due_at:
        'When the scheduler expects to request the next export of the stream (now or earlier: due, or waiting for a quota slot); null when nothing is planned or the stream is disabled.',
      next_due_note: "The scheduler's reason when the stream is not due now.",
      scheduled_at: 'When next_due_at was computed (the end of the last sync, or migrate).',
    },
  },
  kysely_migration: {
    description: 'State-store migrations applied (kysely Migrator).',
    columns: {
      name: 'Migration name (migrations/index.ts).',
      timestamp: 'When it was applied (ISO 8601).',
    },
  },
  kysely_migration_lock: {
    description: 'The lock that keeps two processes from migrating at once (kysely Migrator).',
    columns: {
      id: 'Lock id.',
      is_locked: '1 while a migration runs.',
    },
  },
};

/** The freshness view: one row per account and stream, for dashboards and analysts. */
export const freshnessViewDoc: RelationDoc = {
  description:
    'Freshness per account and stream: watermark and lag, the last export and the last load with its rejected rows, open gaps, exports in flight, and the next due time the scheduler recorded at the end of the last sync. Answers before any sync (after migrate).',
  columns: {
    account: 'Account key.',
    stream: 'Stream (destination table name).',
    enabled: 'Whether the config last used by migrate or sync enables the stream; null when unknown.',
    watermark: 'End (exclusive, UTC) of the data loaded without a hole; null: never synced.',
    lag: 'now() minus the watermark: how far behind the table is; null: never synced.',
    lag_hours: 'The lag in hours (2 decimals).',
    next_due_at:
      'When the scheduler expects to request the stream next (recorded by the last sync or migrate). In the past: due now, or waiting for a quota slot; long past: no sync has run since.',
    next_due_note: "The scheduler's reason when the stream was not due.",
    scheduled_at: 'When next_due_at was recorded.',
    last_export_id: 'Ledger id of the latest export of the stream (any status).',
    last_export_key: 'Export key of that export (_export_id of the rows it loaded).',
    last_export_status: 'Its ledger status.',
    last_export_requested_at: 'When it was requested (accepted by the API, else reserved).',
    last_export_error: 'Its last error, if any.',
    last_load_id: 'Ledger id of the export loaded last.',
    last_load_export_key:
      "Export key of the last load: the _export_id of its rows, rejected_rows' export_key.",
    last_loaded_at: 'When the last load committed (the _loaded_at of its rows).',
    last_load_window_start: "Start of the last load's window (inclusive, UTC).",
    last_load_window_end: "End of the last load's window (exclusive, UTC).",
    last_load_rows: 'Rows the last load put in the table.',
    last_load_rejected_rows: 'Rows the last load set aside in rejected_rows.',
    open_gaps: 'Gaps of the stream no loaded export has filled since.',
    open_gap_span: 'Total length of those gaps.',
    exports_in_flight: 'Exports of the stream requested and not yet loaded or failed.',
  },
};
