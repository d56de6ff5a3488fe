import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertDownloadAllowed } from '../../connectors/cxone/download-policy.js';
import { loadConfig, resolveConfig } from '../../src/config/load-config.js';
import { ConfigError, DownloadRefusedError } from '../../src/errors.js';

/** The config's one account, resolved. */
const resolveAccount = (...args: Parameters<typeof resolveConfig>) => resolveConfig(...args).accounts[0]!;

const account = {
  apiBase: 'https://api-na1.niceincontact.com',
  clientId: 'id',
  clientSecret: 'cs',
  accessKey: 'AK==',
  accessSecret: 'as',
};
const destination = { type: 'postgres', url: 'postgres://u@h/db' };

function problemsOf(input: unknown): string {
  try {
    resolveConfig(input, {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('config problems', () => {
  it('lists an unknown stream with a missing account field and a bad stream option', () => {
    const { clientId: _missing, ...withoutClientId } = account;
    const msg = problemsOf({
      account: withoutClientId,
      destination,
      streams: { nope: {}, copilot_aq: { lookback: 'soon', channels: ['voice'] } },
    });
    expect(msg).toContain('account.clientId: Invalid input');
    expect(msg).toContain('streams.nope: unknown stream; known streams: copilot_kb');
    expect(msg).toContain('streams.copilot_aq.lookback: not a duration');
    expect(msg).toContain('streams.copilot_aq.channels: copilot_aq does not accept channels');
  });

  it('lists an unknown stream when the destination section is missing', () => {
    const msg = problemsOf({ account, streams: { nope: {} } });
    expect(msg).toContain('destination');
    expect(msg).toContain('streams.nope: unknown stream');
  });
});

describe('a YAML syntax error', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'config-yaml-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('names the line and column and never echoes the line, which holds a literal secret', async () => {
    const file = join(dir, 'bad.yaml');
    const secret = 'Sup3r-S3cret-Value';
    await writeFile(
      file,
      ['account:', '  clientId: id', `  clientSecret: "${secret}: x" y: z`, 'destination: {}', ''].join('\n'),
    );
    let message = '';
    try {
      loadConfig(file, {});
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).cause).toBeUndefined();
      message = (err as Error).message;
    }
    expect(message).toMatch(/is not valid YAML: [a-z ]+ at line 3, column \d+ \(the line is not shown/);
    expect(message).not.toContain(secret);
    expect(message).not.toContain('Sup3r');
  });
});

describe('the default download allow-list', () => {
  it('allows exactly the address of an IP-address apiBase, and no wildcard made from it', () => {
    const hosts = (apiBase: string) =>
      resolveAccount({ account: { ...account, apiBase }, destination }, {}).allowedDownloadHosts;
    expect(hosts('https://192.168.0.1:8443')).toEqual(['192.168.0.1', '*.amazonaws.com']);
    expect(hosts('https://[2001:db8::1]/')).toEqual(['[2001:db8::1]', '*.amazonaws.com']);
    expect(hosts('https://api-na1.niceincontact.com')).toEqual([
      'api-na1.niceincontact.com',
      '*.niceincontact.com',
      '*.amazonaws.com',
    ]);
    // A country's public second level is not taken for the vendor's domain.
    expect(hosts('https://api.example.co.uk')).toEqual([
      'api.example.co.uk',
      '*.example.co.uk',
      '*.amazonaws.com',
    ]);
    const base = new URL('https://192.168.0.1:8443');
    const allowed = hosts(base.href);
    expect(() => assertDownloadAllowed(new URL('https://10.0.0.1/file.csv'), allowed, base)).toThrow(
      DownloadRefusedError,
    );
    expect(() => assertDownloadAllowed(new URL('https://192.168.0.1/file.csv'), allowed, base)).not.toThrow();
  });
});
