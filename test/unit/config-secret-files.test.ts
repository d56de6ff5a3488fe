import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';
import { redact } from '../../src/log/redact.js';

const dir = mkdtempSync(join(tmpdir(), 'cxone-secret-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const account = {
  authUrl: 'https://cxone.niceincontact.com/auth/token',
  region: 'na1',
  clientId: 'id',
  clientSecret: '${CXONE_CLIENT_SECRET}',
  accessKey: 'AK==',
  accessSecret: '${CXONE_ACCESS_SECRET:-fallback-access-secret}',
};
const destination = { type: 'postgres', url: '${DATABASE_URL}' };
const url = 'postgres://u@h/db';

function secretFile(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function configError(env: NodeJS.ProcessEnv): string {
  try {
    resolveConfig({ account, destination }, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('resolveConfig accepted the config');
}

describe('config: ${VAR} from VAR_FILE (Docker and Kubernetes secrets)', () => {
  it('reads VAR_FILE when VAR is unset, trims the trailing newline, and redacts the value', () => {
    const file = secretFile('client-secret', 'file-client-secret-1\n');
    const c = resolveConfig(
      { account, destination },
      { CXONE_CLIENT_SECRET_FILE: file, DATABASE_URL_FILE: secretFile('db-url', `${url}\r\n`) },
    );
    expect(c.accounts[0]!.settings.clientSecret).toBe('file-client-secret-1');
    expect(c.stateUrl).toBe(url);
    expect(c.accounts[0]!.settings.accessSecret).toBe('fallback-access-secret');
    expect(redact('token request with file-client-secret-1')).toBe('token request with [REDACTED]');
  });

  it('VAR wins over VAR_FILE', () => {
    const file = secretFile('ignored', 'from-the-file-2');
    const c = resolveConfig(
      { account, destination },
      { CXONE_CLIENT_SECRET: 'from-the-env-2', CXONE_CLIENT_SECRET_FILE: file, DATABASE_URL: url },
    );
    expect(c.accounts[0]!.settings.clientSecret).toBe('from-the-env-2');
  });

  it('VAR_FILE wins over the ${VAR:-default}', () => {
    const file = secretFile('access-secret', 'file-access-secret-3\n');
    const c = resolveConfig(
      { account, destination },
      { CXONE_CLIENT_SECRET: 's', CXONE_ACCESS_SECRET_FILE: file, DATABASE_URL: url },
    );
    expect(c.accounts[0]!.settings.accessSecret).toBe('file-access-secret-3');
  });

  it('a missing file is a config error naming the setting, the variable and the path', () => {
    const missing = join(dir, 'no-such-secret');
    const msg = configError({ CXONE_CLIENT_SECRET_FILE: missing, DATABASE_URL: url });
    expect(msg).toContain(
      `account.clientSecret: CXONE_CLIENT_SECRET is not set and CXONE_CLIENT_SECRET_FILE names ${missing}, which cannot be read (ENOENT)`,
    );
  });

  it('an unreadable path (a directory) and an empty file are errors too', () => {
    expect(configError({ CXONE_CLIENT_SECRET_FILE: dir, DATABASE_URL: url })).toMatch(
      /CXONE_CLIENT_SECRET_FILE names .+, which cannot be read \(EISDIR\)/,
    );
    const empty = secretFile('empty', '\n');
    expect(configError({ CXONE_CLIENT_SECRET_FILE: empty, DATABASE_URL: url })).toContain(
      `CXONE_CLIENT_SECRET_FILE names ${empty}, which is empty`,
    );
  });

  it('never puts a secret read from a file into an error', () => {
    // The client secret comes from a file, and another setting is wrong: the error lists the
    // wrong setting and nothing of the file.
    const file = secretFile('client-secret-4', 'file-client-secret-4\n');
    const msg = configError({ CXONE_CLIENT_SECRET_FILE: file });
    expect(msg).toContain('destination.url: environment variable DATABASE_URL is not set');
    expect(msg).not.toContain('file-client-secret-4');
  });

  it('names only the variable when neither VAR nor VAR_FILE is set', () => {
    expect(configError({ DATABASE_URL: url })).toContain(
      'account.clientSecret: environment variable CXONE_CLIENT_SECRET is not set (nor CXONE_CLIENT_SECRET_FILE)',
    );
  });
});

describe('config: archive.dir from CXONE_OD_SYNC_ARCHIVE_DIR (the container image sets it)', () => {
  const env = { CXONE_CLIENT_SECRET: 's', DATABASE_URL: url };
  it('is the default of archive.dir', () => {
    const vol = '/var/lib/cxone-od-sync/archive';
    expect(resolveConfig({ account, destination }, env).archive.dir).toBe('./.cxone-od-sync/archive');
    expect(
      resolveConfig({ account, destination }, { ...env, CXONE_OD_SYNC_ARCHIVE_DIR: vol }).archive.dir,
    ).toBe(vol);
    const keep = resolveConfig(
      { account, destination, archive: { keepDays: 7 } },
      { ...env, CXONE_OD_SYNC_ARCHIVE_DIR: vol },
    );
    expect(keep.archive).toMatchObject({ dir: vol, keepDays: 7 });
  });

  it('never overrides an archive.dir written in the file', () => {
    const c = resolveConfig(
      { account, destination, archive: { dir: '/data/archive' } },
      { ...env, CXONE_OD_SYNC_ARCHIVE_DIR: '/var/lib/cxone-od-sync/archive' },
    );
    expect(c.archive.dir).toBe('/data/archive');
  });
});
