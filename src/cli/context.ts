import { ExportClient } from '../../connectors/cxone/export-client.js';
import { TokenProvider } from '../../connectors/cxone/token-provider.js';
import { destinationFactory } from '../../connectors/destinations.js';
import { loadConfig, type ResolvedConfig } from '../config/load-config.js';
import { type Clock, systemClock } from '../engine/clock.js';
import type { Destination } from '../engine/destination.js';
import type { SyncDeps } from '../engine/sync-runner.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { defaultRetryPolicy, type RetryPolicy } from '../retry/retry.js';
import { processOwner } from '../state/export-ledger.js';
import type { SqlPool } from '../state/sql-pool.js';
import { StateStore } from '../state/state-store.js';
import { createLineageObserver } from './lineage-observer.js';

/** Everything a command needs, composed from the config; the destination comes from the registry. */
export interface Context extends SyncDeps {
  readonly tokens: TokenProvider;
  close(): Promise<void>;
}

/**
 * The configured destination, created by its registered factory. `pool` (the embedded database)
 * stands in for the destination's database, so only a destination that writes one takes it.
 */
export function createDestination(config: ResolvedConfig, pool?: SqlPool): Destination {
  const d = config.raw.destination;
  const factory = destinationFactory(d.type);
  if (pool && factory.databaseUrl(d) === undefined)
    throw new ConfigError('the embedded database takes a postgres destination only');
  return factory.create(d, { stateUrl: config.stateUrl, ...(pool ? { pool } : {}) });
}

/** `pool` replaces both database URLs (embedded PGlite for `demo`). */
export function createContext(
  config: ResolvedConfig,
  log: Logger,
  clock: Clock = systemClock,
  pool?: SqlPool,
): Context {
  const a = config.raw.account;
  const retry: RetryPolicy = {
    ...defaultRetryPolicy,
    maxAttempts: a.httpMaxAttempts,
    baseDelayMs: a.httpRetryBaseMs,
    ...(a.httpMaxRetryAfterSeconds !== undefined
      ? { maxRetryAfterMs: a.httpMaxRetryAfterSeconds * 1000 }
      : {}),
  };
  const tokens = new TokenProvider(
    {
      authUrl: a.authUrl,
      clientId: a.clientId,
      clientSecret: a.clientSecret,
      accessKey: a.accessKey,
      accessSecret: a.accessSecret,
      clientAuth: a.clientAuth,
      timeoutMs: a.httpTimeoutSeconds * 1000,
    },
    log,
    retry,
    () => clock.now().getTime(),
  );
  const client = new ExportClient(
    tokens,
    {
      apiBase: config.apiBase,
      allowedDownloadHosts: config.allowedDownloadHosts,
      allowInsecureDownloads: a.allowInsecureDownloads,
      retry,
      timeoutMs: a.httpTimeoutSeconds * 1000,
      now: () => clock.now().getTime(),
    },
    log,
  );
  const state = new StateStore(pool ?? config.stateUrl);
  const destination = createDestination(config, pool);
  const lineage = createLineageObserver(config.lineage, log);
  return {
    config,
    state,
    destination,
    client,
    tokens,
    clock,
    log,
    // Test hook (end-to-end tests kill a process in the middle of a load): see window-loader.
    pauseLoadAfterRows: Number(process.env.CXONE_OD_SYNC_TEST_PAUSE_AFTER_ROWS) || undefined,
    owner: processOwner(),
    archiveDir: config.archive.dir,
    poll: {
      intervalMs: a.pollIntervalSeconds * 1000,
      maxIntervalMs: a.pollMaxIntervalSeconds * 1000,
      budgetMs: a.pollTimeoutMinutes * 60_000,
    },
    lineage,
    async close() {
      await Promise.allSettled([state.close(), destination.close(), lineage?.close()]);
    },
  };
}

/**
 * Loads the config, composes the context, applies pending migrations, runs `fn`, and closes
 * every pool whatever happens: the frame of every command that touches the state store.
 */
export async function withContext<T>(
  configFile: string | undefined,
  log: Logger,
  fn: (ctx: Context) => Promise<T>,
): Promise<T> {
  const ctx = createContext(loadConfig(configFile), log);
  try {
    await ctx.state.migrate();
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}
