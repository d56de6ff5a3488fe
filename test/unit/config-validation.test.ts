import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';
import { redact } from '../../src/log/redact.js';

// Issue 27: what the config refuses, and that no refusal quotes a secret.

const account = {
  apiBase: 'https://api-na1.niceincontact.com',
  clientId: 'id',
  clientSecret: '${CLIENT_SECRET}',
  accessKey: 'AK==',
  accessSecret: 'literal-access-secret-27',
};
const destination = { type: 'postgres', url: 'postgres://u@h/db' };
const env = { CLIENT_SECRET: 'client-secret-from-env-27', OTHER_TOKEN: 'token-from-env-27' };

function problemsOf(input: Record<string, unknown>, options = {}): string {
  try {
    resolveConfig({ account, destination, ...input }, env, 'config', options);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('config problems never quote a secret', () => {
  it('shows a variable put in the wrong setting as its reference, not its value', () => {
    const msg = problemsOf({
      streams: {
        copilot_aq: { lookback: '${CLIENT_SECRET}', settle: 'x${OTHER_TOKEN}' },
        copilot_kb: { start: '${OTHER_TOKEN}' },
      },
    });
    expect(msg).toContain('streams.copilot_aq.lookback: not a duration: "${CLIENT_SECRET}"');
    expect(msg).toContain('streams.copilot_aq.settle: not a duration: "x${OTHER_TOKEN}"');
    expect(msg).toContain('streams.copilot_kb.start: not a date: "${OTHER_TOKEN}"');
    expect(msg).not.toContain('from-env-27');
  });

  it('registers the secret settings before validating, so a literal secret elsewhere is redacted', () => {
    const secret = 'literal-access-secret-27';
    const msg = problemsOf({
      account: { ...account, exportsPer24h: 'lots' },
      streams: { copilot_aq: { lookback: secret } },
    });
    expect(msg).toContain('streams.copilot_aq.lookback: not a duration');
    expect(msg).toContain('account.exportsPer24h');
    expect(redact(msg)).not.toContain(secret);
    expect(redact(msg)).toContain('streams.copilot_aq.lookback: not a duration: "[REDACTED]"');
  });

  it('registers the password of a state.url without a host (a Unix socket) for redaction', () => {
    problemsOf({
      state: { url: 'postgres://u:sock-password-27@/db?host=/var/run/postgresql' },
      parallelAccounts: 0,
    });
    expect(redact('x sock-password-27 y')).toBe('x [REDACTED] y');
  });
});

describe('account.horizonMarginDays', () => {
  it('is at least 1 day, the error saying why', () => {
    const msg = problemsOf({ account: { ...account, horizonMarginDays: 0 } });
    expect(msg).toMatch(
      /account\.horizonMarginDays: must be at least 1 \(day\): the API counts its 4 months its own way/,
    );
    expect(
      problemsOf({ accounts: { east: { ...account, horizonMarginDays: 0.5 } }, account: undefined }),
    ).toContain('accounts.east.horizonMarginDays: must be at least 1');
    const ok = resolveConfig({ account: { ...account, horizonMarginDays: 1 }, destination }, env);
    expect(ok.accounts[0]!.horizon.marginDays).toBe(1);
  });
});

describe('a stream start in the future', () => {
  const now = new Date('2026-11-10T12:00:00Z');

  it('is an error naming the setting, in streams and in an account entry', () => {
    const msg = problemsOf(
      {
        account: undefined,
        accounts: { east: { ...account, streams: { copilot_as: { start: '2027-11-01' } } } },
        streams: { copilot_kb: { start: '2062-11-01T00:00:00Z' } },
      },
      { now },
    );
    expect(msg).toContain(
      'streams.copilot_kb.start: 2062-11-01T00:00:00.000Z is in the future (now 2026-11-10T12:00:00.000Z)',
    );
    expect(msg).toContain(
      'accounts.east.streams.copilot_as.start: 2027-11-01T00:00:00.000Z is in the future',
    );
  });

  it("accepts a start in the past, and today's date where the day has begun ahead of UTC", () => {
    const c = resolveConfig(
      {
        account,
        destination,
        streams: { copilot_kb: { start: '2026-07-01' }, copilot_as: { start: '2026-11-11' } },
      },
      env,
      'config',
      { now },
    );
    expect(c.accounts[0]!.streams.map((s) => s.start?.toISOString())).toEqual([
      '2026-07-01T00:00:00.000Z',
      '2026-11-11T00:00:00.000Z',
    ]);
  });
});

describe('state.url', () => {
  const stateUrl = (url: string) => resolveConfig({ account, destination, state: { url } }, env).stateUrl;

  it('takes the PostgreSQL URL forms node-postgres reads', () => {
    for (const url of [
      'postgres://postgres@127.0.0.1:5432/test',
      'postgresql://u:p%40ss@db.example:6543/state?sslmode=verify-full',
      'postgres:///state',
      'postgres://u@/state?host=/var/run/postgresql',
      'postgres://u:pw@/state?host=/var/run/postgresql',
      'postgres://%2Fvar%2Frun%2Fpostgresql/state',
      'postgres://[::1]:5432/state',
      'socket:/var/run/postgresql?db=state',
      '/var/run/postgresql state',
    ])
      expect(stateUrl(url)).toBe(url);
  });

  it('refuses anything else, naming state.url and never quoting the URL (it may hold a password)', () => {
    for (const url of [
      'localhost:5432/state',
      'host=db.example dbname=state',
      'postgres:/u:hunter2-27@db.example/state',
      'postgres//u:hunter2-27@db.example/state',
      'postgres://u:hunter2-27@db.example:54x2/state',
      'postgres://u:hunter2-27@db.example:99999/state',
      'postgres://u:hun#ter2-27@db.example/state',
      'mysql://u:hunter2-27@db.example/state',
    ]) {
      const msg = problemsOf({ state: { url } });
      expect(msg, url).toContain(
        'state.url: not a PostgreSQL URL: use postgres://user:password@host:5432/database',
      );
      expect(msg, url).not.toContain('hunter2');
      expect(msg, url).not.toContain('db.example');
    }
  });
});

describe('config dates', () => {
  it('refuses a date the calendar does not have instead of rolling it over', () => {
    const msg = problemsOf({
      streams: {
        copilot_kb: { start: '2026-02-30' },
        copilot_as: { start: '2026-04-31T00:00:00Z' },
        copilot_aq: { start: '2026-13-01' },
        autopilot_gr: { start: '2026-01-01T24:61' },
      },
    });
    expect(msg).toContain(
      'streams.copilot_kb.start: not a date: "2026-02-30": February 2026 has days 1 to 28, not 30',
    );
    expect(msg).toContain(
      'streams.copilot_as.start: not a date: "2026-04-31T00:00:00Z": April 2026 has days 1 to 30',
    );
    expect(msg).toContain('streams.copilot_aq.start: not a date: "2026-13-01": there is no month 13');
    expect(msg).toContain(
      'streams.autopilot_gr.start: not a date: "2026-01-01T24:61": 24:61 is not a time of day',
    );
  });

  it('reads a start as the flags do: UTC unless it has an offset, February 29th of a leap year', () => {
    const c = resolveConfig(
      {
        account,
        destination,
        streams: {
          copilot_kb: { start: '2028-02-29' },
          copilot_as: { start: '2026-07-01T05:00' },
          copilot_aq: { start: '2026-07-01T05:00:00-04:00' },
          autopilot_gr: { start: new Date('2026-07-01T00:00:00Z') },
        },
      },
      env,
      'config',
      { now: new Date('2028-03-01T00:00:00Z') },
    );
    expect(c.accounts[0]!.streams.map((s) => s.start?.toISOString())).toEqual([
      '2028-02-29T00:00:00.000Z',
      '2026-07-01T05:00:00.000Z',
      '2026-07-01T09:00:00.000Z',
      '2026-07-01T00:00:00.000Z',
    ]);
  });
});
