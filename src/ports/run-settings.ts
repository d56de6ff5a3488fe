import type { StreamSchema } from '../model/stream-schema.js';
import type { SchemaDrift } from '../parse/header-mapping.js';

/*
 * The settings a run reads, as the engine owns them: the config (src/config) produces them from
 * the file and the environment, with defaults applied and everything checked.
 */

/** A stream as the engine runs it: its schema and its options with defaults applied. */
export interface StreamConfig {
  readonly schema: StreamSchema;
  readonly apiPath: string;
  readonly start: Date | undefined;
  readonly timeZone: string;
  readonly channels: readonly string[] | undefined;
  readonly filters: Readonly<Record<string, readonly string[]>> | undefined;
  readonly lookbackMs: number;
  readonly settleMs: number;
  readonly maxWindowDays: number | undefined;
  /** Its share of the quota relative to the other streams (`weight`, default 1). */
  readonly weight: number;
  /** The least new data a request of it must bring (`minInterval`); default: the scheduler's. */
  readonly minIntervalMs: number | undefined;
  readonly schemaDrift: SchemaDrift;
  readonly maxRejectedRatio: number;
}

/** One CXone account as the engine runs it: its key, its quota and 4-month rule, its streams. */
export interface AccountRunSettings {
  /** Quota, ledger and `_account` key: the `accounts:` key, `account.name`, or a hash of the API base and access key. */
  readonly accountKey: string;
  /** Where its settings are in the config, for messages: `account` or `accounts.<key>`. */
  readonly settingsPath: string;
  /** Exports the vendor allows per rolling 24 h (`exportsPer24h`), and those left to others (`reserveForOthers`). */
  readonly quota: { readonly perDay: number; readonly reserveForOthers: number };
  /** The 4-month rule as this account has it (`historyAuthorized`, `horizonMarginDays`). */
  readonly horizon: { readonly historyAuthorized: boolean; readonly marginDays: number };
  /** Where downloaded files are kept, and for how long after they are loaded (shared by every account). */
  readonly archive: { readonly dir: string; readonly keepDays: number; readonly minFreeMB: number };
  /**
   * How long the state tables that grow with every run keep their rows (`state.runsKeepDays`,
   * `state.rejectedRowsKeepDays`; shared by every account). The export ledger is kept for ever.
   */
  readonly retention: { readonly runsKeepDays: number; readonly rejectedRowsKeepDays: number };
  readonly apiBase: string;
  readonly allowedDownloadHosts: readonly string[];
  readonly stateUrl: string;
  readonly streams: readonly StreamConfig[];
}
