import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { streamSchemas } from '../../schemas/index.js';
import { type CliResult, runCli } from '../support/cli-harness.js';
import { e2eFixtures, yesterdayWindowArgs } from '../support/e2e-fixture.js';
import { type RunningSimulator, startSimulator } from '../support/simulator.js';
import { expectRowsMatchSimulator } from '../support/table-expectations.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Three CXone accounts in one config, each its own simulator (credentials, quota and data of its
 * own), into one PostgreSQL database: the built CLI over real HTTP.
 */
describe('several accounts in one deployment (e2e)', () => {
  const seeds = { east: 11, west: 22, broken: 33 } as const;
  type Key = keyof typeof seeds;
  const sims = {} as Record<Key, RunningSimulator>;
  let db: TestDatabase;
  let dir: string;
  let configPath: string;
  const start = new Date(Date.now() - 2 * 86_400_000);
  start.setUTCHours(0, 0, 0, 0);
  const env: NodeJS.ProcessEnv = {};

  /** An account of the config pointing at its simulator; `broken` gets a wrong client secret. */
  const account = (key: Key) => {
    const sim = sims[key];
    const secret = `${key.toUpperCase()}_CLIENT_SECRET`;
    env[secret] = key === 'broken' ? 'not-the-secret' : sim.credentials.clientSecret;
    env[`${key.toUpperCase()}_ACCESS_SECRET`] = sim.credentials.accessSecret;
    return {
      authUrl: sim.authUrl,
      apiBase: sim.apiBase,
      clientId: sim.credentials.clientId,
      clientSecret: `\${${secret}}`,
      accessKey: sim.credentials.accessKey,
      accessSecret: `\${${key.toUpperCase()}_ACCESS_SECRET}`,
      exportsPer24h: 4,
      pollIntervalSeconds: 0.05,
      pollMaxIntervalSeconds: 0.2,
      httpRetryBaseMs: 20,
      httpMaxAttempts: 2,
    };
  };

  const cli = (args: string[]): Promise<CliResult> =>
    runCli([...args, '--config', configPath], { cwd: dir, env });

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await mkdtemp(join(tmpdir(), 'cxone-accounts-'));
    for (const key of Object.keys(seeds) as Key[]) {
      sims[key] = await startSimulator({
        clientId: `client-${key}`,
        clientSecret: `secret-${key}`,
        accessKey: `KEY${key.toUpperCase()}==`,
        accessSecret: `access-${key}`,
        data: { seed: seeds[key] },
        faults: { quota: 4 },
      });
    }
    configPath = join(dir, 'cxone-od-sync.yaml');
    await writeFile(
      configPath,
      stringify({
        accounts: { east: account('east'), west: account('west'), broken: account('broken') },
        parallelAccounts: 2,
        archive: { dir: join(dir, 'archive') },
        destination: { type: 'postgres', url: db.url, schema: 'cxone', copy: db.copy },
        streams: Object.fromEntries(streamSchemas.map((s) => [s.name, { start: start.toISOString() }])),
      }),
    );
  });

  afterAll(async () => {
    for (const sim of Object.values(sims)) await sim?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Every stream table's rows of one account equal what its simulator generated for its loaded windows. */
  async function expectAccountRows(key: Key): Promise<number> {
    let total = 0;
    for (const schema of streamSchemas) {
      const windows = await db.query<{ window_start: Date; window_end: Date }>(
        `select window_start, window_end from cxone_od_sync.exports
          where account = $1 and stream = $2 and status = 'loaded' order by window_start`,
        [key, schema.name],
      );
      const cols = schema.columns.map((c) => `"${c.name}"`).join(', ');
      const rows = await db.query(
        `select ${cols} from cxone.${schema.name} where _account = $1 order by "${schema.eventTime}"`,
        [key],
      );
      total += expectRowsMatchSimulator(rows, schema, windows, { seed: seeds[key] });
    }
    return total;
  }

  const counts = async () =>
    db.query<{ account: string; stream: string; n: string }>(
      streamSchemas
        .map(
          (s) =>
            `select _account as account, '${s.name}' as stream, count(*) as n from cxone.${s.name} group by 1`,
        )
        .join(' union all ') + ' order by 1, 2',
    );

  it('serves each good account within its own quota, fails the one with wrong credentials by name, and keeps their rows apart', async () => {
    const first = await cli(['sync', '--json']);
    // The worst outcome decides the exit code: the refused credentials (2).
    expect(first.code, first.stderr).toBe(2);
    expect(first.json.outcome).toBe('error');
    const byKey = Object.fromEntries(first.json.accounts.map((a: { account: string }) => [a.account, a]));
    expect(Object.keys(byKey).sort()).toEqual(['broken', 'east', 'west']);
    for (const key of ['east', 'west'] as const) {
      expect(byKey[key].outcome, key).toBe('done');
      expect(byKey[key].exportsRequested).toBe(4);
      // Exactly its own quota of 4, spent on its own four streams.
      expect(byKey[key].quota).toMatchObject({ limit: 4, used: 4 });
      // Each account's requests went to its own API, and nowhere else.
      expect(sims[key].stats.exportRequests).toHaveLength(4);
      expect(sims[key].stats.rejectedExportRequests).toEqual([]);
    }
    expect(byKey.broken).toMatchObject({ outcome: 'error', exitCode: 2 });
    expect(byKey.broken.error.message).toMatch(/^account broken: the token endpoint refused the credentials/);
    expect(first.stderr).toContain('account broken: the token endpoint refused the credentials');
    expect(byKey.broken.error.message).toContain('check accounts.broken.clientId');
    // check tries every account and names the one to fix.
    const check = await cli(['check', '--json']);
    expect(check.code, check.stderr).toBe(2);
    expect(
      check.json.checks
        .filter((c: { account?: string }) => c.account)
        .map((c: { check: string; ok: boolean }) => [c.check, c.ok]),
    ).toEqual([
      ['credentials of east', true],
      ['clock of east', true],
      ['credentials of west', true],
      ['clock of west', true],
      ['credentials of broken', false],
    ]);
    expect(sims.broken.stats.exportRequests).toHaveLength(0);
    expect(first.stdout + first.stderr).not.toContain('not-the-secret');
    expect(first.stdout + first.stderr).not.toContain(sims.east.credentials.clientSecret);

    // One table per stream, holding both good accounts' rows, each equal to what its API served.
    expect(await expectAccountRows('east')).toBeGreaterThan(0);
    expect(await expectAccountRows('west')).toBeGreaterThan(0);
    const before = await counts();
    expect(new Set(before.map((r) => r.account))).toEqual(new Set(['east', 'west']));
    expect(before).toHaveLength(8);

    // The second sync right after: nothing is worth a request, nothing changes, per account.
    const second = await cli(['sync', '--account', 'east', '--account', 'west', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.json.accounts.map((a: { account: string }) => a.account)).toEqual(['east', 'west']);
    expect(second.json.exportsRequested).toBe(0);
    expect(await counts()).toEqual(before);
  });

  it("--account selects exactly one account; a window loaded again replaces only that account's rows", async () => {
    const tokensBefore = { west: sims.west.stats.tokenRequests, broken: sims.broken.stats.tokenRequests };
    const status = await cli(['status', '--account', 'east', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.json.accounts.map((a: { account: string }) => a.account)).toEqual(['east']);

    const before = await counts();
    const westKb = await db.query(`select * from cxone.copilot_kb where _account = 'west' order by ctid`);
    // east's copilot_kb export loaded again: its window is replaced, west's rows in it stay.
    const [kb] = await db.query<{ id: string }>(
      `select id from cxone_od_sync.exports where account = 'east' and stream = 'copilot_kb' and status = 'loaded'`,
    );
    const replay = await cli(['replay', '--export', kb!.id, '--account', 'east', '--json']);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.json.rows).toBeGreaterThan(0);
    const synced = await cli(['sync', '--account', 'east', '--json']);
    expect(synced.code, synced.stderr).toBe(0);
    expect(synced.json.accounts.map((a: { account: string }) => a.account)).toEqual(['east']);
    expect(sims.east.stats.exportRequests).toHaveLength(4);
    // The other accounts were not touched: no token asked of their APIs, their rows as they were.
    expect(sims.west.stats.tokenRequests).toBe(tokensBefore.west);
    expect(sims.broken.stats.tokenRequests).toBe(tokensBefore.broken);
    expect(await db.query(`select * from cxone.copilot_kb where _account = 'west' order by ctid`)).toEqual(
      westKb,
    );
    expect(await counts()).toEqual(before);
    await expectAccountRows('east');

    // Only the selected account's secrets are needed.
    const alone = await runCli(['status', '--config', configPath, '--account', 'east', '--json'], {
      cwd: dir,
      env: { ...env, WEST_CLIENT_SECRET: '', BROKEN_CLIENT_SECRET: '' },
    });
    expect(alone.code, alone.stderr).toBe(0);

    const unknown = await cli(['plan', '--account', 'north']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      '--account north: no such account in the config; accounts: east, west, broken',
    );
  });
});

describe('a single-account database of an earlier version, moved to accounts: (e2e)', () => {
  const startE2e = e2eFixtures('each');

  it('keeps every row, fills _account with the account that loaded it, and the next sync replaces windows correctly', async () => {
    const start = new Date(Date.now() - 2 * 86_400_000);
    start.setUTCHours(0, 0, 0, 0);
    const streams = Object.fromEntries(streamSchemas.map((s) => [s.name, { start: start.toISOString() }]));
    const f = await startE2e({
      sim: { faults: { quota: 20 } },
      config: { account: { exportsPer24h: 20 }, streams },
    });
    const first = await f.cli(['sync', '--json']);
    expect(first.code, first.stderr).toBe(0);
    // The tables as an earlier version made them: no _account column (and no index on it).
    for (const s of streamSchemas) await f.db.query(`alter table cxone.${s.name} drop column _account`);
    const snapshot = async () => {
      const out: Record<string, unknown[]> = {};
      for (const s of streamSchemas) {
        const cols = s.columns.map((c) => `"${c.name}"`).join(', ');
        out[s.name] = await f.db.query(`select ${cols}, _export_id from cxone.${s.name} order by 1, 2`);
      }
      return out;
    };
    const before = await snapshot();

    // The config moves to accounts: the same account under its key, and a second one.
    const other = await startSimulator({
      clientSecret: 'other-secret',
      accessKey: 'OTHERKEY==',
      data: { seed: 7 },
      faults: { quota: 20 },
    });
    f.defer(() => other.close());
    const doc = parse(await readFile(f.ws.configPath, 'utf8'));
    const { name, ...e2e } = doc.account;
    expect(name).toBe('e2e');
    delete doc.account;
    doc.accounts = {
      e2e,
      other: {
        ...e2e,
        authUrl: other.authUrl,
        apiBase: other.apiBase,
        clientId: other.credentials.clientId,
        clientSecret: other.credentials.clientSecret,
        accessKey: other.credentials.accessKey,
        accessSecret: other.credentials.accessSecret,
      },
    };
    await writeFile(f.ws.configPath, stringify(doc));

    // With no ledger evidence and several accounts, whose rows they are cannot be told: exit 2,
    // nothing changed.
    await f.db.query('create table ledger_copy as select id, status from cxone_od_sync.exports');
    await f.db.query(`update cxone_od_sync.exports set status = 'failed' where status = 'loaded'`);
    const refused = await f.cli(['migrate', '--json']);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('holds rows from before the _account column');
    const stillWithout = await f.db.query(
      `select count(*)::int as n from information_schema.columns where table_schema = 'cxone' and column_name = '_account'`,
    );
    expect(stillWithout).toEqual([{ n: 0 }]);
    await f.db.query(
      'update cxone_od_sync.exports e set status = c.status from ledger_copy c where c.id = e.id',
    );

    const migrated = await f.cli(['migrate', '--json']);
    expect(migrated.code, migrated.stderr).toBe(0);
    const indexes = await f.db.query<{ valid: boolean }>(
      `select i.indisvalid as valid from pg_index i join pg_class c on c.oid = i.indexrelid
        join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'cxone' and c.relname like '%\\_account\\_%'`,
    );
    expect(indexes).toEqual(Array(streamSchemas.length).fill({ valid: true }));
    for (const s of streamSchemas) {
      const col = await f.db.query<{ is_nullable: string }>(
        `select is_nullable from information_schema.columns where table_schema = 'cxone' and table_name = $1 and column_name = '_account'`,
        [s.name],
      );
      expect(col, s.name).toEqual([{ is_nullable: 'NO' }]);
      const accounts = await f.db.query(`select distinct _account from cxone.${s.name}`);
      expect(accounts, s.name).toEqual([{ _account: 'e2e' }]);
    }
    expect(await snapshot()).toEqual(before);

    // The next sync: the old account's window loaded again replaces its rows (no duplicate), the
    // new account's rows come in beside them.
    const again = await f.cli(['sync', '--stream', 'copilot_kb', ...yesterdayWindowArgs(), '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(
      again.json.accounts.map((a: { account: string; exportsRequested: number }) => [
        a.account,
        a.exportsRequested,
      ]),
    ).toEqual([
      ['e2e', 1],
      ['other', 1],
    ]);
    const after = await snapshot();
    for (const s of streamSchemas) {
      if (s.name !== 'copilot_kb') expect(after[s.name], s.name).toEqual(before[s.name]);
    }
    const kb = await f.db.query<{ account: string; n: string }>(
      `select _account as account, count(*) as n from cxone.copilot_kb group by 1 order by 1`,
    );
    expect(kb.map((r) => r.account)).toEqual(['e2e', 'other']);
    expect(Number(kb[0]!.n)).toBe(before.copilot_kb!.length);
    const kbSchema = streamSchemas.find((s) => s.name === 'copilot_kb')!;
    const windows = await f.db.query<{ window_start: Date; window_end: Date }>(
      `select window_start, window_end from cxone_od_sync.exports where account = 'e2e' and stream = 'copilot_kb' and status = 'loaded' order by window_start`,
    );
    const cols = kbSchema.columns.map((c) => `"${c.name}"`).join(', ');
    expectRowsMatchSimulator(
      await f.db.query(
        `select ${cols} from cxone.copilot_kb where _account = 'e2e' order by interaction_time`,
      ),
      kbSchema,
      windows,
    );
  });
});
