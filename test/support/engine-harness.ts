import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { resolveConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/log/logger.js';
import type { ExportRecord } from '../../src/ports/export-record.js';
import type { SyncDeps } from '../../src/run/sync-deps.js';
import { StateStore } from '../../src/state/state-store.js';
import { MemoryDestination } from './memory-destination.js';
import { MemoryExportApi } from './memory-export-api.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

/** A clock the test moves. */
export class TestClock {
  constructor(private at: Date) {}
  now(): Date {
    return new Date(this.at);
  }
  advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
}

export interface Engine {
  readonly deps: SyncDeps;
  readonly state: StateStore;
  readonly api: MemoryExportApi;
  readonly destination: MemoryDestination;
  readonly clock: TestClock;
  readonly db: TestDatabase;
  /** Every export in the ledger, oldest first. */
  records(): Promise<ExportRecord[]>;
}

const account = {
  name: 'acct',
  apiBase: 'https://api-na1.niceincontact.com',
  clientId: 'id',
  clientSecret: 'secret',
  accessKey: 'key',
  accessSecret: 'access',
};

/**
 * The engine in this process: the in-memory API and destination, a real state store on a
 * database of its own, an injected clock, a temp archive, fast polls. `afterEach` drops it all.
 */
export function engineHarness(): (options?: {
  streams?: Record<string, unknown>;
  account?: Record<string, unknown>;
  now?: Date;
}) => Promise<Engine> {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return async (options = {}) => {
    const db = await createTestDatabase('engine_test');
    cleanups.push(() => db.drop());
    const state = new StateStore(db.url, 2);
    cleanups.push(() => state.close());
    await state.migrate();
    const archiveDir = await mkdtemp(join(tmpdir(), 'cxone-engine-'));
    cleanups.push(() => rm(archiveDir, { recursive: true, force: true }));
    const config = resolveConfig(
      {
        account: { ...account, ...options.account },
        destination: { type: 'postgres', url: db.url },
        archive: { dir: archiveDir },
        streams: options.streams ?? { copilot_kb: { start: '2026-11-18T00:00:00Z' } },
      },
      {},
    ).accounts[0]!;
    const clock = new TestClock(options.now ?? new Date('2026-11-20T12:00:00Z'));
    const api = new MemoryExportApi();
    const destination = new MemoryDestination();
    const deps: SyncDeps = {
      state,
      client: api,
      destination,
      clock,
      log: silentLogger,
      owner: `engine-test:${process.pid}:x`,
      archiveDir,
      poll: { intervalMs: 1, maxIntervalMs: 2, budgetMs: 2_000 },
      horizon: config.horizon,
      config,
      soleAccount: config.accountKey,
      sleep: async () => {},
      ledgerRetry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 },
    };
    return {
      deps,
      state,
      api,
      destination,
      clock,
      db,
      records: async () => (await state.exports.list([config.accountKey], { limit: 1000 })).reverse(),
    };
  };
}
