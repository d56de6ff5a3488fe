import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parse as parseYaml, YAMLError } from 'yaml';
import type { z } from 'zod';
import { findStreamSchema, streamSchemas } from '../../schemas/index.js';
import { ConfigError } from '../errors.js';
import type { AccountRunSettings, StreamConfig } from '../ports/run-settings.js';
import { type AccountSettings, type Config, configSchema } from './config-schema.js';
import { destinationSection } from './destinations/index.js';
import { type LineageSettings, resolveLineage, withLineageFromEnv } from './lineage-config.js';
import { futureStarts } from './stream-starts.js';
import {
  concealSubstitutions,
  registerConfigSecrets,
  registerPasswordInUrl,
  type Substitution,
  substituteEnv,
} from './substitute-env.js';

export type { AccountRunSettings, StreamConfig };
export { substituteEnv };

export const defaultConfigFile = 'cxone-od-sync.yaml';

/** One CXone account as the CLI's composition resolves it: the engine's run settings, and its validated settings. */
export interface AccountConfig extends AccountRunSettings {
  /** The account's validated settings (credentials, polling, retries). Read by the CLI's composition only. */
  readonly settings: AccountSettings;
}

/** A whole deployment: its accounts, and what they share (state store, destination, archive). */
export interface ResolvedConfig {
  /** The validated file as written (defaults applied). Read by the CLI's composition only. */
  readonly raw: Config;
  /** Every account, or those `--account` selected (`ResolveOptions.accounts`), in the file's order. */
  readonly accounts: readonly AccountConfig[];
  /** How many accounts the file has, selected or not. */
  readonly configuredAccounts: number;
  /** Accounts a sync serves at once (`parallelAccounts`). */
  readonly parallelAccounts: number;
  readonly archive: AccountConfig['archive'];
  readonly stateUrl: string;
  /** Where OpenLineage events go (`lineage`, `OPENLINEAGE_*`); undefined: none are sent. */
  readonly lineage: LineageSettings | undefined;
}

/**
 * `archive.dir` when the file does not set it: `CXONE_OD_SYNC_ARCHIVE_DIR` (the container image
 * points it at its volume), else the schema's default.
 */
function withArchiveDirFromEnv(cfg: unknown, env: NodeJS.ProcessEnv): unknown {
  const dir = env.CXONE_OD_SYNC_ARCHIVE_DIR;
  if (!dir || !cfg || typeof cfg !== 'object' || Array.isArray(cfg)) return cfg;
  const archive = (cfg as { archive?: unknown }).archive;
  if (archive === undefined || archive === null) return { ...cfg, archive: { dir } };
  if (typeof archive !== 'object' || Array.isArray(archive) || 'dir' in archive) return cfg;
  return { ...cfg, archive: { ...archive, dir } };
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
}

/** What to resolve of a config. */
export interface ResolveOptions {
  /**
   * `--account`: only these entries of `accounts:` are resolved (their `${VAR}`s read, their
   * settings checked); the others need not have their secrets in this process's environment.
   */
  readonly accounts?: readonly string[] | undefined;
  /** The time a stream's `start` must not be after (default: the system clock's now). */
  readonly now?: Date | undefined;
}

/**
 * The input with only the `accounts:` entries named (all when none is); a key the map does not
 * have is a usage error (before any `${VAR}` is read). Returns the keys the file has.
 */
function onlyAccounts(
  input: unknown,
  keys: readonly string[] | undefined,
): { input: unknown; all?: string[] } {
  const map = (input as { accounts?: unknown } | null)?.accounts;
  if (!map || typeof map !== 'object' || Array.isArray(map)) return { input };
  const all = Object.keys(map);
  if (!keys?.length) return { input, all };
  assertKnownAccounts(keys, all);
  const picked = Object.fromEntries(Object.entries(map).filter(([k]) => keys.includes(k)));
  return { input: { ...(input as object), accounts: picked }, all };
}

/** `--account` naming a key the config does not have is a usage error naming the keys it has. */
function assertKnownAccounts(keys: readonly string[] | undefined, known: readonly string[]): void {
  const unknown = (keys ?? []).filter((k) => !known.includes(k));
  if (unknown.length)
    throw new ConfigError(
      `--account ${unknown.join(', ')}: no such account in the config; accounts: ${known.join(', ')}`,
    );
}

/** Validates a config object as a whole; one ConfigError lists every problem with its path. */
export function resolveConfig(
  input: unknown,
  env: NodeJS.ProcessEnv = process.env,
  source = 'config',
  options: ResolveOptions = {},
): ResolvedConfig {
  const problems: string[] = [];
  const substitutions: Substitution[] = [];
  const notValid = (list: readonly string[]) =>
    new ConfigError(
      `${source} is not valid:\n  - ${[...new Set(list)].map((p) => concealSubstitutions(p, substitutions)).join('\n  - ')}`,
    );
  const selected = onlyAccounts(input, options.accounts);
  const withEnv = withLineageFromEnv(selected.input ?? {}, env);
  const substituted = withArchiveDirFromEnv(substituteEnv(withEnv, env, [], problems, substitutions), env);
  // Before anything can throw: no problem found below may quote a secret.
  registerConfigSecrets(substituted);
  const parsed = configSchema.safeParse(substituted);
  if (!parsed.success) problems.push(...formatIssues(parsed.error.issues));
  if (problems.length > 0 || !parsed.success) throw notValid(problems);
  const cfg = parsed.data;
  const destinationDb = destinationSection(cfg.destination.type).databaseUrl(cfg.destination);
  registerPasswordInUrl(destinationDb);
  const stateUrl = cfg.state.url ?? destinationDb ?? '';
  const archive = { dir: cfg.archive.dir, keepDays: cfg.archive.keepDays, minFreeMB: cfg.archive.minFreeMB };
  const retention = {
    runsKeepDays: cfg.state.runsKeepDays,
    rejectedRowsKeepDays: cfg.state.rejectedRowsKeepDays,
  };

  const entries: [string | undefined, AccountSettings, StreamsSection | undefined][] = cfg.accounts
    ? Object.entries(cfg.accounts).map(([key, { streams, ...settings }]) => [key, settings, streams])
    : [[undefined, cfg.account!, undefined]];
  const accountProblems: string[] = [];
  const accounts = entries.map(([key, settings, ownStreams]) => {
    const apiBase = (settings.apiBase ?? `https://api-${settings.region}.niceincontact.com`).replace(
      /\/+$/,
      '',
    );
    const accountKey =
      key ??
      settings.name ??
      `acct-${createHash('sha256').update(`${apiBase}\n${settings.accessKey}`).digest('hex').slice(0, 12)}`;
    const streams = resolveStreams(mergeStreams(cfg.streams, ownStreams), cfg.defaults);
    accountProblems.push(
      ...windowsThatCannotKeepUp(streams, settings.exportsPer24h - settings.reserveForOthers, key ?? ''),
    );
    const account: AccountConfig = {
      accountKey,
      settings,
      settingsPath: key === undefined ? 'account' : `accounts.${key}`,
      quota: { perDay: settings.exportsPer24h, reserveForOthers: settings.reserveForOthers },
      horizon: { historyAuthorized: settings.historyAuthorized, marginDays: settings.horizonMarginDays },
      archive,
      retention,
      apiBase,
      allowedDownloadHosts: settings.allowedDownloadHosts ?? defaultDownloadHosts(apiBase),
      stateUrl,
      streams,
    };
    return account;
  });
  accountProblems.push(...sameTenant(accounts), ...futureStarts(cfg, options.now ?? new Date()));
  if (accountProblems.length) throw notValid(accountProblems);
  // A single `account:` has its key only now (it may be derived).
  if (!cfg.accounts) assertKnownAccounts(options.accounts, [accounts[0]!.accountKey]);
  return {
    raw: cfg,
    accounts,
    configuredAccounts: selected.all?.length ?? 1,
    parallelAccounts: cfg.parallelAccounts,
    archive,
    stateUrl,
    lineage: resolveLineage(cfg.lineage, env),
  };
}

type StreamsSection = NonNullable<Config['streams']>;

/**
 * Entries that reach the same CXone account (one API base and access key) under two keys: each
 * would keep its own ledger of the one vendor quota, and together spend it twice over.
 */
function sameTenant(accounts: readonly AccountConfig[]): string[] {
  const byTenant = new Map<string, string[]>();
  for (const a of accounts) {
    const tenant = `${a.apiBase}\n${a.settings.accessKey}`;
    byTenant.set(tenant, [...(byTenant.get(tenant) ?? []), a.accountKey]);
  }
  return [...byTenant.values()]
    .filter((keys) => keys.length > 1)
    .map(
      (keys) =>
        `accounts: ${keys.join(', ')} reach the same CXone account (the same apiBase and accessKey); each would count the one vendor quota on its own and spend it twice over: keep one entry`,
    );
}

/**
 * An account's streams: the top-level `streams:` (every stream when it is left out), with the
 * account's own entries over them: an entry there sets the options it names over the top-level
 * ones, enables the stream unless it says `enabled: false`, and `enabled: false` disables it.
 */
function mergeStreams(top: StreamsSection | undefined, own: StreamsSection | undefined): StreamsSection {
  const base: StreamsSection =
    top ?? Object.fromEntries(streamSchemas.map((s) => [s.name, { enabled: true }]));
  if (!own) return base;
  const merged: StreamsSection = { ...base };
  for (const [name, opts] of Object.entries(own)) {
    const set = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
    merged[name] = { ...(base[name] ?? {}), ...set } as StreamsSection[string];
  }
  return merged;
}

/** The enabled streams of a `streams:` section, with the defaults applied. */
function resolveStreams(selected: StreamsSection, defaults: Config['defaults']): StreamConfig[] {
  const streams: StreamConfig[] = [];
  for (const [name, opts] of Object.entries(selected)) {
    if (opts.enabled === false) continue;
    const schema = findStreamSchema(name)!;
    streams.push({
      schema,
      apiPath: opts.path ?? schema.apiPaths[0],
      start: opts.start,
      timeZone: opts.timeZone ?? defaults.timeZone,
      channels: opts.channels,
      filters: opts.filters,
      lookbackMs: opts.lookback ?? defaults.lookback,
      settleMs: opts.settle ?? defaults.settle,
      maxWindowDays: opts.maxWindowDays,
      weight: opts.weight ?? 1,
      minIntervalMs: opts.minInterval,
      schemaDrift: opts.schemaDrift ?? defaults.schemaDrift,
      maxRejectedRatio: opts.maxRejectedRatio ?? defaults.maxRejectedRatio,
    });
  }
  return streams;
}

/**
 * A stream gets about `quota * weight / sum(weights)` exports a day, each covering at most
 * `maxWindowDays`: when that is a day of data a day or less, a backlog is never caught up and
 * the quota is spent forever on the oldest days. Each such stream, with the arithmetic.
 */
/** `account`: the account's key when the config has several (named in the message), else ''. */
function windowsThatCannotKeepUp(streams: readonly StreamConfig[], quota: number, account: string): string[] {
  const total = streams.reduce((n, s) => n + s.weight, 0);
  return streams.flatMap((s) => {
    if (s.maxWindowDays === undefined) return [];
    const perDay = (quota * s.weight) / total;
    const daysPerDay = perDay * s.maxWindowDays;
    if (daysPerDay > 1) return [];
    const needed = Math.floor(1 / perDay) + 1;
    return [
      `streams.${s.schema.name}.maxWindowDays: ${s.maxWindowDays} day(s) cannot keep up${account ? ` in account ${account}` : ''}: ${quota} exports per 24 h shared by ${streams.length} stream(s) give ${s.schema.name} about ${perDay.toFixed(2)} a day (weight ${s.weight} of ${total}), ${daysPerDay.toFixed(2)} day(s) of data a day against 1 day passing; set maxWindowDays to ${needed} or more, or raise its weight`,
    ];
  });
}

/**
 * `account.allowedDownloadHosts` when unset: the API host, its domain's subdomains and AWS
 * storage. An API base on an IP address allows exactly that address: a wildcard made of an
 * address's last two numbers (`*.0.1`) would match hosts nobody chose.
 */
export function defaultDownloadHosts(apiBase: string): string[] {
  const apiHost = new URL(apiBase).hostname;
  if (isIP(apiHost.replace(/^\[|\]$/g, '')) !== 0) return [apiHost, '*.amazonaws.com'];
  const labels = apiHost.split('.');
  // A country's second level (`co.uk`, `com.au`) is a public suffix, not the vendor's domain.
  const publicSecondLevel =
    labels.length > 2 && labels.at(-1)!.length === 2 && secondLevelSuffixes.has(labels.at(-2)!);
  const apiDomain = labels.slice(publicSecondLevel ? -3 : -2).join('.');
  return [apiHost, `*.${apiDomain}`, '*.amazonaws.com'];
}

/** Second-level labels under a country code that are public suffixes (`co.uk`, `com.au`, `ne.jp`). */
const secondLevelSuffixes = new Set(['co', 'com', 'net', 'org', 'gov', 'ac', 'edu', 'ne', 'or', 'go']);

/** Reads a YAML config file (default `cxone-od-sync.yaml` when present) and resolves it. */
export function loadConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  options: ResolveOptions = {},
): ResolvedConfig {
  const path = file ?? (existsSync(defaultConfigFile) ? defaultConfigFile : undefined);
  if (!path) {
    throw new ConfigError(
      `no configuration: pass --config FILE or create ${defaultConfigFile} (see docs/configuration.md)`,
    );
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${describeYamlError(err)}`);
  }
  return resolveConfig(doc, env, path, options);
}

/**
 * A YAML syntax error without its text: the parser's message quotes the offending line, which can
 * hold a literal secret, so only the kind of error and where it is are told (and the error is not
 * kept as a cause, which an embedding program might print).
 */
export function describeYamlError(err: unknown): string {
  if (!(err instanceof YAMLError)) return 'the parser failed';
  const kind = err.code.toLowerCase().replace(/_/g, ' ');
  const at = err.linePos?.[0];
  return `${kind}${at ? ` at line ${at.line}, column ${at.col}` : ''} (the line is not shown, as it may hold a secret)`;
}
