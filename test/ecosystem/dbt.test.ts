import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { streamSchemas } from '../../schemas/index.js';
import { type E2eFixture, startE2e } from '../support/e2e-fixture.js';
import { runTool, type ToolResult, tail } from './python-tools.js';

/** dbt's own records of a command: target/sources.json (freshness) and target/run_results.json. */
interface DbtResults {
  results: { unique_id: string; status: string }[];
}

/** A minimal dbt project in `dir`: dbt_project.yml, a profile, and models/ for the sources. */
async function dbtProject(dir: string, profile: Record<string, unknown>): Promise<void> {
  await mkdir(join(dir, 'models'), { recursive: true });
  await writeFile(
    join(dir, 'dbt_project.yml'),
    stringify({ name: 'cxone_ecosystem', version: '1.0.0', 'config-version': 2, profile: 'cxone' }),
  );
  await writeFile(
    join(dir, 'profiles.yml'),
    stringify({ cxone: { target: 'ci', outputs: { ci: profile } } }),
  );
}

const dbtEnv = (dir: string): NodeJS.ProcessEnv => ({
  DBT_PROFILES_DIR: dir,
  DBT_SEND_ANONYMOUS_USAGE_STATS: 'false',
  DO_NOT_TRACK: '1',
});

/**
 * Runs dbt in the project, by default with warnings as errors: a warning or a deprecation fails
 * the command (`warnError: false` where a warning is the outcome looked for: a stale source).
 */
const dbt = (dir: string, args: string[], { warnError = true } = {}): Promise<ToolResult> =>
  runTool('dbt', [...(warnError ? ['--warn-error'] : []), '--no-use-colors', ...args], {
    cwd: dir,
    env: dbtEnv(dir),
  });

const results = async (dir: string, file: string): Promise<Record<string, string>> => {
  const doc = JSON.parse(await readFile(join(dir, 'target', file), 'utf8')) as DbtResults;
  return Object.fromEntries(doc.results.map((r) => [r.unique_id, r.status]));
};

/**
 * The output of `dbt-sources --out models/`, read by a real dbt-core (1.12, dbt-postgres) after a
 * real sync into PostgreSQL: parse with no warning, source freshness fresh and then stale as the
 * thresholds say, the tests it writes passing, the state source included; and the BigQuery
 * output parsed against a BigQuery profile.
 */
describe('dbt reads the sources dbt-sources writes', () => {
  let f: E2eFixture;
  let dir: string;
  /** Each stream's freshness thresholds, as written in the generated file. */
  const thresholds = new Map<string, { warn: number; error: number }>();

  beforeAll(async () => {
    f = await startE2e();
    await f.ws.writeConfig({
      account: { exportsPer24h: 4 },
      streams: Object.fromEntries(
        streamSchemas.map((s) => [s.name, { start: new Date(Date.now() - 2 * 86_400_000).toISOString() }]),
      ),
    });
    f.sim.setFaults({ quota: 4 });
    const sync = await f.cli(['sync', '--json']);
    expect(sync.code, sync.stderr).toBe(0);
    dir = await mkdtemp(join(tmpdir(), 'cxone-dbt-'));
    const url = new URL(f.db.url);
    await dbtProject(dir, {
      type: 'postgres',
      host: url.hostname,
      port: Number(url.port || 5432),
      user: decodeURIComponent(url.username || 'postgres'),
      password: decodeURIComponent(url.password),
      dbname: url.pathname.slice(1),
      schema: 'dbt_ecosystem',
      threads: 2,
    });
    const written = await f.cli(['dbt-sources', '--out', join(dir, 'models')]);
    expect(written.code, written.stderr).toBe(0);
    // biome-ignore lint/suspicious/noExplicitAny: dbt's YAML, walked freely
    const file = parse(await readFile(join(dir, 'models', 'sources.yml'), 'utf8')) as any;
    for (const t of file.sources[0].tables) {
      const fresh = t.config.freshness;
      thresholds.set(t.name, { warn: fresh.warn_after.count, error: fresh.error_after.count });
    }
  });

  afterAll(async () => {
    await f?.teardown();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('parses with no warning and no deprecation', async () => {
    const r = await dbt(dir, ['parse']);
    expect(r.code, tail(r)).toBe(0);
    expect(r.stdout).not.toMatch(/\[WARNING\]|Deprecat/i);
    const manifest = JSON.parse(await readFile(join(dir, 'target', 'manifest.json'), 'utf8'));
    const sources = Object.keys(manifest.sources).sort();
    expect(sources).toEqual(
      [
        ...streamSchemas.map((s) => `source.cxone_ecosystem.cxone.${s.name}`),
        'source.cxone_ecosystem.cxone_od_sync.exports',
        'source.cxone_ecosystem.cxone_od_sync.freshness',
        'source.cxone_ecosystem.cxone_od_sync.rejected_rows',
      ].sort(),
    );
  });

  it('finds every stream fresh after a sync, warns past warn_after and errors past error_after', async () => {
    const fresh = await dbt(dir, ['source', 'freshness']);
    expect(fresh.code, tail(fresh)).toBe(0);
    const first = await results(dir, 'sources.json');
    expect(Object.values(first)).toEqual(streamSchemas.map(() => 'pass'));

    const kb = thresholds.get('copilot_kb')!;
    const as = thresholds.get('copilot_as')!;
    await f.db.query(`update cxone.copilot_kb set _loaded_at = _loaded_at - interval '${kb.warn + 1} hours'`);
    await f.db.query(
      `update cxone.copilot_as set _loaded_at = _loaded_at - interval '${as.error + 1} hours'`,
    );
    const stale = await dbt(dir, ['source', 'freshness'], { warnError: false });
    expect(stale.stdout, tail(stale)).toContain('ERROR STALE');
    const later = await results(dir, 'sources.json');
    expect(later).toMatchObject({
      'source.cxone_ecosystem.cxone.copilot_kb': 'warn',
      'source.cxone_ecosystem.cxone.copilot_as': 'error',
      'source.cxone_ecosystem.cxone.copilot_aq': 'pass',
      'source.cxone_ecosystem.cxone.autopilot_gr': 'pass',
    });
  });

  it('passes the tests it writes, on the stream tables and on the state source', async () => {
    const r = await dbt(dir, ['test']);
    expect(r.code, tail(r)).toBe(0);
    const run = await results(dir, 'run_results.json');
    const ids = Object.keys(run);
    expect(
      Object.values(run).every((s) => s === 'pass'),
      JSON.stringify(run),
    ).toBe(true);
    for (const s of streamSchemas) {
      expect(ids.some((id) => id.includes(`source_not_null_cxone_${s.name}_${s.eventTime}`))).toBe(true);
      expect(ids.some((id) => id.includes(`source_unique_cxone_${s.name}_`))).toBe(true);
    }
    for (const t of ['exports', 'rejected_rows', 'freshness']) {
      expect(ids.some((id) => id.includes(`_cxone_od_sync_${t}_`))).toBe(true);
    }
  });

  it('parses the BigQuery output against a BigQuery profile', async () => {
    const bq = await mkdtemp(join(tmpdir(), 'cxone-dbt-bq-'));
    try {
      await f.ws.writeConfig({
        destination: { type: 'bigquery', projectId: 'acme-analytics', dataset: 'cxone_raw' },
        state: { url: f.db.url },
      });
      const written = await f.cli(['dbt-sources', '--out', join(bq, 'models')]);
      expect(written.code, written.stderr).toBe(0);
      await dbtProject(bq, {
        type: 'bigquery',
        method: 'oauth',
        project: 'acme-analytics',
        dataset: 'dbt_ecosystem',
        threads: 1,
      });
      const r = await dbt(bq, ['parse']);
      expect(r.code, tail(r)).toBe(0);
      expect(r.stdout).not.toMatch(/\[WARNING\]|Deprecat/i);
      const manifest = JSON.parse(await readFile(join(bq, 'target', 'manifest.json'), 'utf8'));
      const kb = manifest.sources['source.cxone_ecosystem.cxone_raw.copilot_kb'];
      expect([kb.database, kb.schema, kb.loaded_at_field]).toEqual([
        'acme-analytics',
        'cxone_raw',
        '_loaded_at',
      ]);
      expect(kb.columns._export_id.description).toBeTruthy();
    } finally {
      await rm(bq, { recursive: true, force: true });
    }
  });
});
