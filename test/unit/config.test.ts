import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';

/** The config's one account, resolved. */
const resolveAccount = (...args: Parameters<typeof resolveConfig>) => resolveConfig(...args).accounts[0]!;

const account = {
  authUrl: 'https://cxone.niceincontact.com/auth/token',
  region: 'na1',
  clientId: 'id',
  clientSecret: '${SECRET}',
  accessKey: 'AK==',
  accessSecret: 'as-secret-value',
};
const destination = { type: 'postgres', url: 'postgres://u@h/db' };

describe('config', () => {
  it('substitutes ${ENV} and applies defaults', () => {
    const c = resolveAccount({ account, destination }, { SECRET: 'from-env' });
    expect(c.settings.clientSecret).toBe('from-env');
    expect(c.apiBase).toBe('https://api-na1.niceincontact.com');
    expect(c.stateUrl).toBe('postgres://u@h/db');
    expect(c.streams.map((s) => s.schema.name)).toEqual([
      'copilot_kb',
      'copilot_as',
      'copilot_aq',
      'autopilot_gr',
    ]);
    expect(c.streams[0]!.lookbackMs).toBe(86_400_000);
    expect(c.streams[3]!.apiPath).toBe('AutopilotKnowledge/GRTable');
    expect(c.allowedDownloadHosts).toContain('*.amazonaws.com');
  });

  it('lists every problem with its path in one error', () => {
    let err: unknown;
    try {
      resolveConfig(
        {
          account: { ...account, exportsPer24h: 0 },
          destination,
          streams: {
            copilot_aq: { channels: ['voice'], filters: { Team: ['x'] }, timeZone: 'Mars/Base' },
            autopilot_gr: { path: 'Copilot/KBTable' },
            nope: {},
          },
        },
        {},
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    for (const part of [
      'account.clientSecret: environment variable SECRET is not set',
      'account.exportsPer24h',
      'streams.copilot_aq.channels: copilot_aq does not accept channels',
      'streams.copilot_aq.filters.Team: copilot_aq accepts only the filters CopilotProfileId, AgentNumber',
      'streams.copilot_aq.timeZone',
      'streams.autopilot_gr.path: must be one of AutopilotKnowledge/GRTable, autopilot/GRTable',
      'streams.nope: unknown stream',
    ]) {
      expect(msg).toContain(part);
    }
    expect(msg).not.toContain('as-secret-value');
  });

  it('keeps only the listed streams, without the disabled ones', () => {
    const c = resolveAccount(
      { account, destination, streams: { copilot_kb: {}, copilot_aq: { enabled: false } } },
      { SECRET: 's' },
    );
    expect(c.streams.map((s) => s.schema.name)).toEqual(['copilot_kb']);
  });

  it('gives the same account key to processes with the same credentials', () => {
    const a = resolveAccount({ account, destination }, { SECRET: 's' }).accountKey;
    const b = resolveAccount({ account, destination }, { SECRET: 'other' }).accountKey;
    expect(a).toBe(b);
    expect(a).not.toContain('AK');
  });
  it('passes streams.<name>.weight and minInterval to the stream, weight 1 and no minimum by default', () => {
    const c = resolveAccount(
      { account, destination, streams: { copilot_kb: { weight: 2, minInterval: '6h' }, copilot_as: {} } },
      { SECRET: 's' },
    );
    expect(c.streams.map((s) => [s.schema.name, s.weight, s.minIntervalMs])).toEqual([
      ['copilot_kb', 2, 6 * 3_600_000],
      ['copilot_as', 1, undefined],
    ]);
  });

  it('refuses a maxWindowDays that can never catch up with the quota, with the arithmetic', () => {
    const four = (kb: Record<string, unknown>) => ({
      account: { ...account, exportsPer24h: 3 },
      destination,
      streams: { copilot_kb: kb, copilot_as: {}, copilot_aq: {}, autopilot_gr: {} },
    });
    // 3 exports a day over 4 streams: 0.75 each, so 1-day windows bring 0.75 days of data a day.
    expect(() => resolveConfig(four({ maxWindowDays: 1 }), { SECRET: 's' })).toThrow(ConfigError);
    expect(() => resolveConfig(four({ maxWindowDays: 1 }), { SECRET: 's' })).toThrow(
      'streams.copilot_kb.maxWindowDays: 1 day(s) cannot keep up: 3 exports per 24 h shared by 4 stream(s) ' +
        'give copilot_kb about 0.75 a day (weight 1 of 4), 0.75 day(s) of data a day against 1 day passing; ' +
        'set maxWindowDays to 2 or more, or raise its weight',
    );
    expect(resolveAccount(four({ maxWindowDays: 2 }), { SECRET: 's' }).streams[0]!.maxWindowDays).toBe(2);
    // A weight of 2 of 5 gives it 1.2 exports a day: 1-day windows keep up.
    expect(resolveAccount(four({ maxWindowDays: 1, weight: 2 }), { SECRET: 's' }).streams[0]!.weight).toBe(2);
  });

  it('resolves several accounts, each with the top-level streams under its own overrides', () => {
    const c = resolveConfig(
      {
        accounts: {
          east: account,
          'west.eu-1': {
            ...account,
            region: 'eu1',
            exportsPer24h: 5,
            streams: { autopilot_gr: { enabled: false }, copilot_kb: { weight: 2 }, copilot_aq: {} },
          },
        },
        destination,
        streams: { copilot_kb: { lookback: '2h' }, copilot_as: {}, autopilot_gr: {} },
      },
      { SECRET: 's' },
    );
    expect(c.configuredAccounts).toBe(2);
    const [east, west] = c.accounts;
    expect(east!.accountKey).toBe('east');
    expect(east!.settingsPath).toBe('accounts.east');
    expect(east!.streams.map((s) => s.schema.name)).toEqual(['copilot_kb', 'copilot_as', 'autopilot_gr']);
    expect(west!.accountKey).toBe('west.eu-1');
    expect(west!.apiBase).toBe('https://api-eu1.niceincontact.com');
    expect(west!.quota).toEqual({ perDay: 5, reserveForOthers: 0 });
    // Its own entries over the top-level ones: the lookback kept, the weight set, AQ added, GR off.
    expect(west!.streams.map((s) => [s.schema.name, s.weight, s.lookbackMs])).toEqual([
      ['copilot_kb', 2, 7_200_000],
      ['copilot_as', 1, 86_400_000],
      ['copilot_aq', 1, 86_400_000],
    ]);
    // --account resolves only the accounts named: another account's secrets need not be set.
    const only = resolveConfig(
      { accounts: { east: account, west: { ...account, clientSecret: '${WEST_SECRET}' } }, destination },
      { SECRET: 's' },
      'config',
      { accounts: ['east'] },
    );
    expect(only.accounts.map((a) => a.accountKey)).toEqual(['east']);
    expect(only.configuredAccounts).toBe(2);
    expect(() =>
      resolveConfig({ accounts: { east: account }, destination }, { SECRET: 's' }, 'config', {
        accounts: ['north'],
      }),
    ).toThrow('--account north: no such account in the config; accounts: east');
    // Two keys for one CXone account would spend its quota twice over.
    expect(() =>
      resolveConfig({ accounts: { east: account, twin: { ...account } }, destination }, { SECRET: 's' }),
    ).toThrow('accounts: east, twin reach the same CXone account (the same apiBase and accessKey)');
  });
});
