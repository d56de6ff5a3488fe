import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';
import { redact } from '../../src/log/redact.js';

const dir = mkdtempSync(join(tmpdir(), 'cxone-lineage-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = {
  account: {
    region: 'na1',
    clientId: 'id',
    clientSecret: 'cs-0001',
    accessKey: 'AK==',
    accessSecret: 'as-0001',
  },
  destination: { type: 'postgres', url: 'postgres://u@h/db' },
};

describe('config: lineage', () => {
  it('sends no lineage without a url or a file', () => {
    expect(resolveConfig(base, {}).lineage).toBeUndefined();
    expect(resolveConfig({ ...base, lineage: { namespace: 'x' } }, {}).lineage).toBeUndefined();
    expect(resolveConfig(base, { OPENLINEAGE_NAMESPACE: 'airflow' }).lineage).toBeUndefined();
  });

  it('takes lineage.* with defaults: endpoint api/v1/lineage, namespace cxone-od-sync, a 5 s timeout', () => {
    expect(resolveConfig({ ...base, lineage: { url: 'http://marquez:5000' } }, {}).lineage).toEqual({
      url: 'http://marquez:5000',
      endpoint: 'api/v1/lineage',
      apiKey: undefined,
      namespace: 'cxone-od-sync',
      file: undefined,
      timeoutMs: 5_000,
      parentId: undefined,
      rootParentId: undefined,
    });
    const file = resolveConfig({ ...base, lineage: { file: '/tmp/ol.jsonl', timeoutMs: 800 } }, {}).lineage;
    expect(file).toMatchObject({ url: undefined, file: '/tmp/ol.jsonl', timeoutMs: 800 });
  });

  it('fills what the config leaves unset from OPENLINEAGE_*; a key the config sets wins', () => {
    const env = {
      OPENLINEAGE_URL: 'https://lineage.example.com',
      OPENLINEAGE_ENDPOINT: 'api/v2/events',
      OPENLINEAGE_API_KEY: 'ol-key-from-env-1',
      OPENLINEAGE_NAMESPACE: 'airflow-prod',
      OPENLINEAGE_PARENT_ID: 'airflow-prod/dag.task/01890a5d-ac96-774b-bcce-b302099a8057',
      OPENLINEAGE_ROOT_PARENT_ID: 'airflow-prod/dag/01890a5d-ac96-774b-bcce-b302099a8058',
    };
    expect(resolveConfig(base, env).lineage).toEqual({
      url: 'https://lineage.example.com',
      endpoint: 'api/v2/events',
      apiKey: 'ol-key-from-env-1',
      namespace: 'airflow-prod',
      file: undefined,
      timeoutMs: 5_000,
      parentId: env.OPENLINEAGE_PARENT_ID,
      rootParentId: env.OPENLINEAGE_ROOT_PARENT_ID,
    });
    expect(redact('sent ol-key-from-env-1')).toBe('sent [REDACTED]');
    const own = resolveConfig(
      { ...base, lineage: { url: 'http://marquez:5000', namespace: 'mine' } },
      env,
    ).lineage;
    expect(own).toMatchObject({ url: 'http://marquez:5000', namespace: 'mine' });
  });

  it("sends a backend named in the config no key or endpoint of the environment's (another backend's)", () => {
    const env = {
      OPENLINEAGE_API_KEY: 'airflow-key-9',
      OPENLINEAGE_ENDPOINT: 'x',
      OPENLINEAGE_NAMESPACE: 'af',
    };
    const own = resolveConfig({ ...base, lineage: { url: 'http://marquez:5000' } }, env).lineage;
    expect(own).toMatchObject({ url: 'http://marquez:5000', endpoint: 'api/v1/lineage', apiKey: undefined });
    expect(own?.namespace).toBe('af');
    const explicit = resolveConfig(
      { ...base, lineage: { url: 'http://marquez:5000', apiKey: '${OPENLINEAGE_API_KEY}' } },
      env,
    ).lineage;
    expect(explicit?.apiKey).toBe('airflow-key-9');
  });

  it('reads the API key from ${VAR}, VAR_FILE or OPENLINEAGE_API_KEY_FILE, and redacts it', () => {
    const keyFile = join(dir, 'ol-key');
    writeFileSync(keyFile, 'ol-key-from-file-2\n');
    const fromVar = resolveConfig(
      { ...base, lineage: { url: 'http://m:5000', apiKey: '${LINEAGE_KEY}' } },
      { LINEAGE_KEY: 'ol-key-from-var-3' },
    ).lineage;
    expect(fromVar?.apiKey).toBe('ol-key-from-var-3');
    expect(redact('ol-key-from-var-3')).toBe('[REDACTED]');
    const fromFile = resolveConfig(base, {
      OPENLINEAGE_URL: 'http://m:5000',
      OPENLINEAGE_API_KEY_FILE: keyFile,
    }).lineage;
    expect(fromFile?.apiKey).toBe('ol-key-from-file-2');
    expect(redact('ol-key-from-file-2')).toBe('[REDACTED]');
    const literal = resolveConfig(
      { ...base, lineage: { url: 'http://m:5000', apiKey: 'ol-key-literal-4' } },
      {},
    );
    expect(literal.lineage?.apiKey).toBe('ol-key-literal-4');
    expect(redact('ol-key-literal-4')).toBe('[REDACTED]');
  });

  it('is off with OPENLINEAGE_DISABLED=true, whatever is configured', () => {
    const c = resolveConfig({ ...base, lineage: { url: 'http://m:5000' } }, { OPENLINEAGE_DISABLED: 'true' });
    expect(c.lineage).toBeUndefined();
  });

  it('refuses a URL that is not http(s), naming both the key and the variable', () => {
    for (const [config, env] of [
      [{ ...base, lineage: { url: 'marquez:5000' } }, {}],
      [base, { OPENLINEAGE_URL: 'not a url' }],
      [{ ...base, lineage: { url: 'ftp://marquez' } }, {}],
    ] as const) {
      expect(() => resolveConfig(config, env)).toThrow(ConfigError);
      expect(() => resolveConfig(config, env)).toThrow(
        /lineage\.url: not an http\(s\) URL \(lineage\.url, or OPENLINEAGE_URL\)/,
      );
    }
    expect(() => resolveConfig({ ...base, lineage: { url: 'http://m', timeoutMs: 0 } }, {})).toThrow(
      /lineage\.timeoutMs/,
    );
    expect(() => resolveConfig({ ...base, lineage: { url: 'http://m', token: 'x' } }, {})).toThrow(/lineage/);
  });
});
