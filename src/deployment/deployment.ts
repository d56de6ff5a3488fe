import { ExportClient } from '../../connectors/cxone/export-client.js';
import { TokenProvider } from '../../connectors/cxone/token-provider.js';
import { destinationFactory } from '../../connectors/destinations.js';
import { type AccountConfig, loadConfig, type ResolvedConfig } from '../config/load-config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { processOwner } from '../ports/claim-owner.js';
import { type Clock, systemClock } from '../ports/clock.js';
import type { Destination } from '../ports/destination.js';
import type { LoadObserver } from '../ports/lineage.js';
import { defaultRetryPolicy, type RetryPolicy } from '../retry/retry.js';
import type { SyncDeps } from '../run/sync-runner.js';
import type { SqlPool } from '../state/sql-pool.js';
import { StateStore } from '../state/state-store.js';
import { createLineageObserver } from './lineage-observer.js';

/** One account's dependencies: its own client and token provider; the state store and destination shared. */
export interface Context extends SyncDeps {
  /** The engine reads it through its ports; the CLI also migrates and closes it. */
  readonly state: StateStore;
  /** The engine reads the run settings; the CLI also reads the account's validated settings. */
  readonly config: AccountConfig;
  readonly tokens: TokenProvider;
}

/** A deployment composed from the config: the shared state store and destination, and the selected accounts. */
export interface Deployment {
  readonly config: ResolvedConfig;
  readonly state: StateStore;
  readonly destination: Destination;
  /** The selected accounts' contexts, in the config's order. */
  readonly accounts: readonly Context[];
  /** The config's key when it has one account: what a table's rows from before `_account` are. */
  readonly soleAccount: string | undefined;
  readonly clock: Clock;
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

export interface DeploymentOptions {
  readonly clock?: Clock;
  /** Replaces both database URLs (embedded PGlite for `demo`). */
  readonly pool?: SqlPool;
}

/**
 * The state store and destination once, and a context per account of the config sharing them
 * (`--account` selects accounts as the config is resolved: `ResolveOptions.accounts`).
 */
export function createDeployment(
  config: ResolvedConfig,
  log: Logger,
  options: DeploymentOptions = {},
): Deployment {
  const clock = options.clock ?? systemClock;
  // The key a table's rows from before `_account` take when the ledger cannot tell (one account only).
  const soleAccount = config.configuredAccounts === 1 ? config.accounts[0]?.accountKey : undefined;
  const state = new StateStore(options.pool ?? config.stateUrl, config.raw.state.maxConnections);
  const destination = createDestination(config, options.pool);
  const owner = processOwner();
  const lineage = createLineageObserver(config.lineage, log);
  const accounts = config.accounts.map((account) =>
    accountContext(
      account,
      { state, destination, owner, clock, lineage, soleAccount },
      config.raw.accounts ? log.child({ account: account.accountKey }) : log,
    ),
  );
  return {
    config,
    state,
    destination,
    accounts,
    soleAccount,
    clock,
    async close() {
      await Promise.allSettled([state.close(), destination.close(), lineage?.close()]);
    },
  };
}

function accountContext(
  config: AccountConfig,
  shared: {
    state: StateStore;
    destination: Destination;
    owner: string;
    clock: Clock;
    lineage: LoadObserver | undefined;
    /** The config's key when it has one account (not: when one is selected). */
    soleAccount: string | undefined;
  },
  log: Logger,
): Context {
  const { clock } = shared;
  const a = config.settings;
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
      settingsPath: config.settingsPath,
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
  return {
    config,
    state: shared.state,
    destination: shared.destination,
    client,
    tokens,
    clock,
    log,
    // Test hook (end-to-end tests kill a process in the middle of a load): see window-loader.
    pauseLoadAfterRows: Number(process.env.CXONE_OD_SYNC_TEST_PAUSE_AFTER_ROWS) || undefined,
    owner: shared.owner,
    ...(shared.soleAccount !== undefined ? { soleAccount: shared.soleAccount } : {}),
    archiveDir: config.archive.dir,
    horizon: config.horizon,
    poll: {
      intervalMs: a.pollIntervalSeconds * 1000,
      maxIntervalMs: a.pollMaxIntervalSeconds * 1000,
      budgetMs: a.pollTimeoutMinutes * 60_000,
    },
    ...(shared.lineage ? { lineage: shared.lineage } : {}),
  };
}

/** Loads the config (`--account`: only those accounts resolved) and composes the deployment. */
export function openDeployment(
  configFile: string | undefined,
  log: Logger,
  accounts: readonly string[] | undefined,
): Deployment {
  return createDeployment(loadConfig(configFile, process.env, { accounts }), log);
}

/**
 * Loads the config, composes the deployment (`--account`: only those accounts), applies pending
 * migrations, runs `fn`, and closes every pool whatever happens: the frame of every command that
 * touches the state store.
 */
export async function withDeployment<T>(
  configFile: string | undefined,
  log: Logger,
  accounts: readonly string[] | undefined,
  fn: (d: Deployment) => Promise<T>,
): Promise<T> {
  const d = openDeployment(configFile, log, accounts);
  try {
    await d.state.migrate();
    return await fn(d);
  } finally {
    await d.close();
  }
}

/**
 * The one account a command about a single account works on: the one `--account` names, or the
 * config's only account; several is a usage error (`what`: the command's words) naming them.
 */
export function onlyAccount(d: Deployment, what: string): Context {
  if (d.accounts.length === 1) return d.accounts[0]!;
  throw new ConfigError(
    `${what}: pass --account KEY (accounts: ${d.accounts.map((c) => c.config.accountKey).join(', ')})`,
  );
}

/**
 * `--stream` over several accounts: each account gets the named streams it has enabled, and an
 * account with none of them is left out; a name no selected account has enabled is a usage
 * error naming the enabled ones. Without names, every account and all its streams.
 */
export function accountsForStreams(
  d: Deployment,
  names: readonly string[] | undefined,
): { ctx: Context; streams: string[] | undefined }[] {
  if (!names?.length) return d.accounts.map((ctx) => ({ ctx, streams: undefined }));
  const enabled = (ctx: Context) => ctx.config.streams.map((s) => s.schema.name);
  const anywhere = new Set(d.accounts.flatMap(enabled));
  const unknown = names.filter((n) => !anywhere.has(n));
  if (unknown.length)
    throw new ConfigError(
      `--stream ${unknown.join(', ')}: not an enabled stream; enabled: ${[...anywhere].join(', ') || '(none)'}`,
    );
  return d.accounts.flatMap((ctx) => {
    const streams = names.filter((n) => enabled(ctx).includes(n));
    return streams.length ? [{ ctx, streams }] : [];
  });
}
