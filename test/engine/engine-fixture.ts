import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { findStreamSchema } from '../../schemas/index.js';
import { type DriveOutcome, driveExport } from '../../src/export/export-lifecycle.js';
import { type RequestResult, requestExport } from '../../src/export/export-request.js';
import { reserve } from '../../src/ledger/export-transitions.js';
import { silentLogger } from '../../src/log/logger.js';
import type { StreamSchema } from '../../src/model/stream-schema.js';
import type { Window } from '../../src/model/window.js';
import type { Clock } from '../../src/ports/clock.js';
import type { ExportRecord } from '../../src/ports/export-record.js';
import type { AccountRunSettings, StreamConfig } from '../../src/ports/run-settings.js';
import type { QuotaView } from '../../src/ports/state-ports.js';
import { runSync, type SyncDeps, type SyncOptions, type SyncSummary } from '../../src/run/sync-runner.js';
import { StateStore } from '../../src/state/state-store.js';
import { MemoryDestination } from '../support/memory-destination.js';
import { MemoryExportApi } from '../support/memory-export-api.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The engine in-process: `driveExport`, `requestExport` and `runSync` against the in-memory
 * source and destination (test/support/memory-*.ts), a real `StateStore` on a database of the
 * test's own, an injected clock and a temp archive. Tests assert on the ledger, outcomes,
 * watermarks and the quota, never on log text.
 */

/** A clock the test moves; `sleep` moves it too, so a wait for a quota slot takes no time. */
export class TestClock implements Clock {
  private ms: number;
  constructor(start: Date) {
    this.ms = start.getTime();
  }
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export const t0 = new Date('2026-03-10T12:00:00.000Z');
export const hourMs = 3_600_000;
export const dayMs = 24 * hourMs;
export const minuteMs = 60_000;

/** A settled day before `t0`. */
export const yesterday: Window = {
  start: new Date('2026-03-08T00:00:00.000Z'),
  end: new Date('2026-03-09T00:00:00.000Z'),
};

/** A column's value in generated row `i` of a window. */
function cell(type: StreamSchema['columns'][number]['type'], i: number, at: Date): string {
  if (type === 'timestamp') return at.toISOString();
  if (type === 'integer') return String(i);
  if (type === 'number') return String(i * 1.5);
  if (type === 'boolean') return i % 2 ? 'true' : 'false';
  return `v${i}`;
}

/** A well-formed CSV of `rows` rows spread over the window, headed by the columns' display names. */
export function csvFor(schema: StreamSchema, window: Window, rows = 5, bad = 0): string {
  const header = schema.columns.map((c) => c.headers[0]).join(',');
  const span = window.end.getTime() - window.start.getTime();
  const lines = Array.from({ length: rows }, (_, i) => {
    const at = new Date(window.start.getTime() + Math.floor(((i + 0.5) * span) / rows));
    return schema.columns
      .map((c) => (c.name === schema.eventTime && i < bad ? 'not a time' : cell(c.type, i, at)))
      .join(',');
  });
  return `${[header, ...lines].join('\r\n')}\r\n`;
}

/** A file the CSV scanner refuses: the last record's quoted field is never closed. */
export function malformedCsv(schema: StreamSchema, window: Window): string {
  return `${csvFor(schema, window, 3)}"${'x'.repeat(10)},unterminated\r\n`;
}

export function streamConfig(name: string, over: Partial<StreamConfig> = {}): StreamConfig {
  const schema = findStreamSchema(name)!;
  return {
    schema,
    apiPath: schema.apiPaths[0]!,
    start: new Date(t0.getTime() - 2 * dayMs),
    timeZone: 'UTC',
    channels: undefined,
    filters: undefined,
    lookbackMs: dayMs,
    settleMs: 15 * minuteMs,
    maxWindowDays: undefined,
    weight: 1,
    minIntervalMs: undefined,
    schemaDrift: 'evolve',
    maxRejectedRatio: 0.01,
    ...over,
  };
}

export interface EngineOptions {
  readonly streams?: readonly StreamConfig[];
  readonly quota?: { perDay: number; reserveForOthers: number };
  /** Rows in each generated file. */
  readonly rows?: number;
}

export interface Engine {
  readonly db: TestDatabase;
  readonly state: StateStore;
  readonly api: MemoryExportApi;
  readonly destination: MemoryDestination;
  readonly clock: TestClock;
  readonly archiveDir: string;
  readonly deps: SyncDeps;
  readonly account: string;
  stream(name?: string): StreamConfig;
  request(window?: Window, name?: string, plannedFrom?: Date): Promise<RequestResult>;
  /** A request the API accepts: its record, submitted and claimed. */
  submitted(window?: Window, name?: string): Promise<ExportRecord>;
  /** A reservation whose process died before the request was sent or answered. */
  reserved(window?: Window, name?: string): Promise<ExportRecord>;
  drive(record: ExportRecord): Promise<DriveOutcome>;
  sync(options?: SyncOptions): Promise<SyncSummary>;
  record(ledgerId: string): Promise<ExportRecord>;
  ledger(): Promise<ExportRecord[]>;
  quota(): Promise<QuotaView>;
  watermark(name?: string): Promise<Date | undefined>;
}

/**
 * Starts engines for the enclosing `describe`, each on a database of its own, torn down (pools
 * closed, database dropped, archive removed) after each test. Call it in the `describe` body.
 */
export function engineFixtures(): (options?: EngineOptions) => Promise<Engine> {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return async (options = {}) => {
    const db = await createTestDatabase('cxone_engine');
    cleanups.push(() => db.drop());
    const archiveDir = await mkdtemp(join(tmpdir(), 'cxone-engine-'));
    cleanups.push(() => rm(archiveDir, { recursive: true, force: true }));
    const state = new StateStore(db.url);
    cleanups.push(() => state.close());
    await state.migrate();
    const clock = new TestClock(t0);
    const streams = options.streams ?? [streamConfig('copilot_aq')];
    const api = new MemoryExportApi({
      clock,
      body: (stream, window) => csvFor(findStreamSchema(stream)!, window, options.rows ?? 5),
    });
    const destination = new MemoryDestination();
    const account = 'acct';
    const config: AccountRunSettings = {
      accountKey: account,
      settingsPath: 'account',
      quota: options.quota ?? { perDay: 3, reserveForOthers: 0 },
      horizon: { historyAuthorized: false, marginDays: 1 },
      archive: { dir: archiveDir, keepDays: 30, minFreeMB: 0 },
      retention: { runsKeepDays: 90, rejectedRowsKeepDays: 365 },
      apiBase: 'https://api.example.test',
      allowedDownloadHosts: [],
      stateUrl: db.url,
      streams,
    };
    const deps: SyncDeps = {
      state,
      client: api,
      destination,
      clock,
      log: silentLogger,
      owner: 'engine-test:0:owner',
      archiveDir,
      poll: { intervalMs: 1, maxIntervalMs: 1, budgetMs: 60_000 },
      horizon: config.horizon,
      config,
      ledgerRetry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 },
      sleep: async (ms) => clock.advance(ms),
      soleAccount: account,
    };
    const stream = (name?: string) => (name ? streams.find((s) => s.schema.name === name)! : streams[0]!);
    const request = (window: Window = yesterday, name?: string, plannedFrom?: Date) =>
      requestExport(deps, stream(name), window, undefined, plannedFrom);
    const engine: Engine = {
      db,
      state,
      api,
      destination,
      clock,
      archiveDir,
      deps,
      account,
      stream,
      request,
      async submitted(window, name) {
        const r = await request(window, name);
        if (r.kind !== 'submitted') throw new Error(`request ${r.kind}: ${JSON.stringify(r)}`);
        return r.record;
      },
      async reserved(window = yesterday, name) {
        const s = stream(name);
        const prepared = api.buildRequest({
          apiPath: s.apiPath,
          stream: s.schema.name,
          window,
          timeZone: 'UTC',
        });
        const now = clock.now();
        const row = reserve(
          {
            account,
            stream: s.schema.name,
            apiPath: s.apiPath,
            windowStart: window.start,
            windowEnd: window.end,
            timeZone: 'UTC',
            requestBody: prepared.requestBody,
            fileName: prepared.fileName,
          },
          now,
        );
        const r = await state.quota.reserveExport(row, config.quota, now, 'dead-host:1:gone');
        if (r.kind !== 'reserved') throw new Error(`reservation ${r.kind}`);
        return r.record;
      },
      drive: (record) => driveExport(record, stream(record.stream), deps),
      sync: (opts) => runSync(deps, opts),
      record: async (id) => (await state.exports.get(id))!,
      ledger: async () =>
        (await state.exports.list([account], { limit: 100 })).sort(
          (a, b) => Number(a.ledgerId) - Number(b.ledgerId),
        ),
      quota: () => state.quota.view(account, config.quota, clock.now()),
      watermark: async (name) => (await state.watermarks.byStream(account)).get(name ?? stream().schema.name),
    };
    return engine;
  };
}
