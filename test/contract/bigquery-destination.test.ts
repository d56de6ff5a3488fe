import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { loadJobIds, stagingTableId } from '../../connectors/bigquery/bigquery-ddl.js';
import { BigQueryDestination } from '../../connectors/bigquery/bigquery-destination.js';
import { copilotKb } from '../../schemas/copilot-kb.js';
import { ConfigError } from '../../src/errors.js';
import type { ColumnSpec, StreamSchema } from '../../src/model/stream-schema.js';
import type { TypedRow } from '../../src/parse/row-typer.js';
import type { LoadJob } from '../../src/ports/destination.js';
import { type FakeBigQuery, startFakeBigQuery } from '../support/fake-bigquery.js';

/** No table here predates `_account`: asked, it names the account of the load. */
const noExistingRows = async () => 'acct-a';

/**
 * Contract tests: the BigQuery destination against a local server that answers the REST calls
 * @google-cloud/bigquery makes. They pin what goes over the wire (table definitions, load job
 * configuration and id), what the replace transaction does to the table (the stand-in runs its
 * statements; their wording is free) and what a failure leaves behind.
 */

const windowA = { start: new Date('2026-11-01T00:00:00Z'), end: new Date('2026-11-02T00:00:00Z') };
const dataset = 'cxone_ct';

function staticAuth(token: string): OAuth2Client {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: token, expiry_date: Date.now() + 3_600_000 });
  return auth;
}

const cols = (names: string[], schema: StreamSchema = copilotKb): ColumnSpec[] =>
  names.map((n) => {
    const c = schema.columns.find((x) => x.name === n);
    if (!c) throw new Error(n);
    return c;
  });

const kbColumns = cols(['interaction_time', 'contact_id', 'agent_number', 'team', 'suggestions_shown']);

function rowsFor(window: typeof windowA, n: number, tag: string): TypedRow[] {
  const span = window.end.getTime() - window.start.getTime();
  return Array.from({ length: n }, (_, i) => ({
    line: i + 2,
    values: [
      new Date(window.start.getTime() + Math.floor((span / n) * i)),
      `${tag}-contact-${i}`,
      String(1000 + i),
      i % 2 ? 'Support "Tier 2", EMEA' : null,
      i,
    ],
  }));
}

interface JobOptions {
  rows: TypedRow[];
  window?: typeof windowA;
  exportKey?: string;
  account?: string;
  loadedAt?: Date;
  columns?: ColumnSpec[];
  onCommit?: (staged: number) => void;
  /** Told when the destination commits the load's state (after the window is replaced). */
  onStateCommit?: () => void;
}

function loadJob(o: JobOptions): LoadJob {
  async function* batches() {
    yield o.rows.slice(0, Math.ceil(o.rows.length / 2));
    yield o.rows.slice(Math.ceil(o.rows.length / 2));
  }
  return {
    schema: copilotKb,
    columns: o.columns ?? kbColumns,
    exportKey: o.exportKey ?? 'vendor-export-1',
    account: o.account ?? 'acct-a',
    window: o.window ?? windowA,
    loadedAt: o.loadedAt ?? new Date('2026-11-28T10:00:00Z'),
    rows: batches(),
    beforeCommit: async (staged) => {
      o.onCommit?.(staged);
    },
    commit: async () => {
      o.onStateCommit?.();
    },
  };
}

describe('BigQuery destination (contract, local REST server)', () => {
  let fake: FakeBigQuery;
  let dest: BigQueryDestination;
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(async () => {
    await fake?.close();
    fake = await startFakeBigQuery();
    dest = newProcess({ insertAttempts: 3, sleep: async () => {} });
  });

  /** The destination as a process has it when it starts (nothing cached), over the stand-in. */
  const newProcess = (extra: Partial<ConstructorParameters<typeof BigQueryDestination>[0]> = {}) =>
    new BigQueryDestination({
      projectId: fake.projectId,
      dataset,
      location: 'EU',
      apiEndpoint: fake.url,
      authClient: staticAuth(fake.token),
      pollIntervalMs: 5,
      ...extra,
    });

  it('creates the dataset and a typed, described, partitioned and clustered table; drift adds a column', async () => {
    await dest.ensureTable(copilotKb, [], noExistingRows);
    const ds = fake.requests.find((r) => r.method === 'POST' && r.path.endsWith('/datasets'));
    expect(ds?.body).toMatchObject({ datasetReference: { datasetId: dataset }, location: 'EU' });
    const create = fake.requests.find(
      (r) => r.method === 'POST' && r.path.endsWith(`/datasets/${dataset}/tables`),
    );
    const body = create?.body;
    expect(body.tableReference.tableId).toBe('copilot_kb');
    expect(body.timePartitioning).toEqual({ type: 'DAY', field: 'interaction_time' });
    expect(body.clustering).toEqual({ fields: ['_account', 'team', 'skill', 'agent_number'] });
    expect(body.description).toMatch(/knowledge-base suggestions/);
    const fields = body.schema.fields as { name: string; type: string; mode: string; description: string }[];
    expect(fields.map((f) => f.name)).toEqual([
      ...copilotKb.columns.map((c) => c.name),
      '_export_id',
      '_window_start',
      '_window_end',
      '_loaded_at',
      '_source_line',
      '_account',
    ]);
    const byName = Object.fromEntries(fields.map((f) => [f.name, f]));
    expect(byName.interaction_time).toMatchObject({ type: 'TIMESTAMP', mode: 'REQUIRED' });
    expect(byName.agent_number).toMatchObject({ type: 'STRING', mode: 'NULLABLE' });
    expect(byName._export_id).toMatchObject({ type: 'STRING', mode: 'REQUIRED' });
    expect(byName._account).toMatchObject({ type: 'STRING', mode: 'REQUIRED' });
    expect(byName._source_line).toMatchObject({ type: 'INT64' });
    for (const c of copilotKb.columns) {
      expect(byName[c.name]?.description).toBe(c.description);
      expect(byName[c.name]?.type).toBe(
        { timestamp: 'TIMESTAMP', text: 'STRING', integer: 'INT64', number: 'FLOAT64', boolean: 'BOOL' }[
          c.type
        ],
      );
    }

    // A second process preparing the same table changes nothing.
    const other = newProcess();
    await other.ensureTable(copilotKb, [], noExistingRows);
    expect(fake.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);

    const drifted: ColumnSpec = {
      name: 'sentiment_score',
      type: 'text',
      headers: ['Sentiment Score'],
      description: 'Column found in the export; not in the schema (schemaDrift: evolve).',
    };
    await other.ensureTable(copilotKb, [drifted], noExistingRows);
    const patch = fake.requests.filter((r) => r.method === 'PATCH');
    expect(patch).toHaveLength(1);
    const patched = patch[0]?.body.schema.fields as { name: string; mode: string }[];
    expect(patched.at(-1)).toMatchObject({ name: 'sentiment_score', type: 'STRING', mode: 'NULLABLE' });
    expect(patched).toHaveLength(fields.length + 1);
  });

  it('loads through a staging table with a deterministic job id, then replaces the window in one transaction', async () => {
    await dest.ensureTable(copilotKb, [], noExistingRows);
    // The table already holds an earlier load of the window and its neighbours, each with a row
    // on the window's bounds: the replace must take exactly [start, end).
    const table = fake.tables.get(`${dataset}.copilot_kb`);
    if (!table) throw new Error('ensureTable created no table');
    const fields = table.resource.schema.fields as { name: string }[];
    const seeded = (at: Date, tag: string): Record<string, unknown> => ({
      ...Object.fromEntries(fields.map((f) => [f.name, null])),
      interaction_time: at.toISOString(),
      contact_id: tag,
      _export_id: `seed-${tag}`,
      _source_line: '2',
      _account: 'acct-a',
    });
    const before = [
      seeded(new Date(windowA.start.getTime() - 1), 'before-1ms'),
      seeded(new Date(windowA.start.getTime() - 3_600_000), 'before-1h'),
      seeded(windowA.end, 'at-end'),
      seeded(new Date(windowA.end.getTime() + 3_600_000), 'after-1h'),
    ];
    const earlier = [
      seeded(windowA.start, 'old-at-start'),
      seeded(new Date(windowA.start.getTime() + 43_200_000), 'old-noon'),
      seeded(new Date(windowA.end.getTime() - 1), 'old-end-1ms'),
    ];
    table.rows.push(...before, ...earlier);
    const loadedAt = new Date('2026-11-28T10:00:00Z');
    let staged = -1;
    const result = await dest.load(
      loadJob({ rows: rowsFor(windowA, 50, 'a'), loadedAt, onCommit: (n) => (staged = n) }),
    );
    expect(result).toEqual({ rows: 50, replaced: earlier.length });
    expect(staged).toBe(50);

    const ids = loadJobIds(dataset, copilotKb, 'acct-a', 'vendor-export-1', loadedAt);
    expect(ids.load).toMatch(/^cxone_od_sync_load_cxone_ct_copilot_kb_[0-9a-f]{16}_[0-9a-z]+$/);
    const stagingId = stagingTableId(copilotKb, 'acct-a', 'vendor-export-1');
    const upload = fake.requests.filter((r) => r.path.startsWith('/upload/'));
    expect(upload).toHaveLength(1);
    expect(upload[0]?.query.uploadType).toBe('multipart');
    expect(upload[0]?.body.jobReference).toMatchObject({ jobId: ids.load, location: 'EU' });
    const load = upload[0]?.body.configuration.load;
    expect(load).toMatchObject({
      destinationTable: { projectId: fake.projectId, datasetId: dataset, tableId: stagingId },
      sourceFormat: 'NEWLINE_DELIMITED_JSON',
      writeDisposition: 'WRITE_TRUNCATE',
      createDisposition: 'CREATE_NEVER',
      maxBadRecords: 0,
    });
    expect(load.schema.fields.map((f: { name: string }) => f.name)).toEqual([
      'interaction_time',
      'contact_id',
      'agent_number',
      'team',
      'suggestions_shown',
      '_source_line',
      '_export_id',
      '_window_start',
      '_window_end',
      '_loaded_at',
      '_account',
    ]);
    const stagingCreate = fake.requests.find(
      (r) => r.method === 'POST' && r.body?.tableReference?.tableId === stagingId,
    );
    expect(Number(stagingCreate?.body.expirationTime)).toBe(loadedAt.getTime() + 86_400_000);

    // One query job, under the replace id, in standard SQL, whose statements all ran in one
    // transaction (the stand-in runs the script all or nothing, as BigQuery runs a transaction).
    const query = fake.requests.filter(
      (r) => r.method === 'POST' && r.path.endsWith('/jobs') && r.body?.configuration?.query,
    );
    expect(query).toHaveLength(1);
    expect(query[0]?.body.jobReference).toMatchObject({ jobId: ids.replace, location: 'EU' });
    expect(query[0]?.body.configuration.query.useLegacySql).toBe(false);
    const statements = [...fake.jobs.values()].filter((j) => j.statistics?.parentJobId === ids.replace);
    expect(statements.length).toBeGreaterThan(0);
    const transactions = new Set(statements.map((j) => j.statistics.transactionInfo?.transactionId));
    expect(transactions.size).toBe(1);
    expect([...transactions][0]).toEqual(expect.any(String));

    // The window holds exactly the new rows; the rows around it are as they were.
    const all = fake.rows(dataset, 'copilot_kb');
    const inWindow = (r: Record<string, unknown>) => {
      const t = Date.parse(String(r.interaction_time));
      return t >= windowA.start.getTime() && t < windowA.end.getTime();
    };
    const byTime = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      Date.parse(String(a.interaction_time)) - Date.parse(String(b.interaction_time));
    expect(all.filter((r) => !inWindow(r)).sort(byTime)).toEqual(before.sort(byTime));
    const rows = all.filter(inWindow).sort(byTime);
    expect(rows).toHaveLength(50);
    expect(rows.map((r) => r.contact_id)).toEqual(Array.from({ length: 50 }, (_, i) => `a-contact-${i}`));
    expect(rows[1]).toMatchObject({
      interaction_time: new Date(windowA.start.getTime() + Math.floor((86_400_000 / 50) * 1)).toISOString(),
      contact_id: 'a-contact-1',
      agent_number: '1001',
      team: 'Support "Tier 2", EMEA',
      suggestions_shown: '1',
      _source_line: '3',
      _export_id: 'vendor-export-1',
      _window_start: windowA.start.toISOString(),
      _window_end: windowA.end.toISOString(),
      _loaded_at: loadedAt.toISOString(),
      skill: null,
    });
    expect(rows[0]?.team).toBeNull();
    // The staging table is dropped once the window is replaced.
    expect(fake.tables.has(`${dataset}.${stagingId}`)).toBe(false);
  });

  it('gives the same table whenever a window is loaded again, and leaves other windows alone', async () => {
    await dest.ensureTable(copilotKb, [], noExistingRows);
    const windowB = { start: windowA.end, end: new Date('2026-11-03T00:00:00Z') };
    await dest.load(loadJob({ rows: rowsFor(windowB, 7, 'b'), window: windowB, exportKey: 'exp-b' }));
    await dest.load(loadJob({ rows: rowsFor(windowA, 30, 'a'), loadedAt: new Date('2026-11-28T10:00:00Z') }));
    const snapshot = (rows: Record<string, unknown>[]) =>
      rows.map(({ _loaded_at, ...r }) => JSON.stringify(r)).sort();
    const first = snapshot(fake.rows(dataset, 'copilot_kb'));
    const again = await dest.load(
      loadJob({ rows: rowsFor(windowA, 30, 'a'), loadedAt: new Date('2026-11-28T11:00:00Z') }),
    );
    expect(again).toEqual({ rows: 30, replaced: 30 });
    expect(snapshot(fake.rows(dataset, 'copilot_kb'))).toEqual(first);
    expect(fake.rows(dataset, 'copilot_kb')).toHaveLength(37);
    // A corrected export of the window replaces it, not adds to it.
    await dest.load(loadJob({ rows: rowsFor(windowA, 12, 'c'), loadedAt: new Date('2026-11-28T12:00:00Z') }));
    const rows = fake.rows(dataset, 'copilot_kb');
    expect(rows).toHaveLength(19);
    expect(rows.filter((r) => String(r.contact_id).startsWith('a-'))).toHaveLength(0);
    expect(rows.filter((r) => String(r.contact_id).startsWith('b-'))).toHaveLength(7);
  });

  /** Makes copilot_kb a table of an earlier version: no _account column, its rows without the value. */
  function asEarlierVersion(): void {
    const entry = fake.tables.get(`${dataset}.copilot_kb`)!;
    entry.resource.schema.fields = entry.resource.schema.fields.filter(
      (f: { name: string }) => f.name !== '_account',
    );
    entry.resource.clustering = { fields: ['team', 'skill', 'agent_number'] };
    entry.rows = entry.rows.map(({ _account, ...r }) => r);
  }

  it("replaces only the load's account's rows; a table made before _account gains it, filled with the account that loaded it, and clustered by it", async () => {
    await dest.ensureTable(copilotKb, [], noExistingRows);
    await dest.load(loadJob({ rows: rowsFor(windowA, 5, 'a') }));
    asEarlierVersion();
    // A process of this version (its table cache empty) meets the table.
    const upgraded = newProcess();
    let asked = 0;
    await upgraded.ensureTable(copilotKb, [], async () => {
      asked++;
      return 'acct-old';
    });
    expect(asked).toBe(1);
    const fields = fake.tables.get(`${dataset}.copilot_kb`)!.resource.schema.fields as {
      name: string;
      mode: string;
    }[];
    expect(fields.find((f) => f.name === '_account')).toMatchObject({ mode: 'NULLABLE' });
    expect(fake.tables.get(`${dataset}.copilot_kb`)!.resource.clustering).toEqual({
      fields: ['_account', 'team', 'skill', 'agent_number'],
    });
    expect(fake.rows(dataset, 'copilot_kb').map((r) => r._account)).toEqual(Array(5).fill('acct-old'));

    // Another account loads the same window: the old account's rows stay.
    await upgraded.load(loadJob({ rows: rowsFor(windowA, 3, 'n'), account: 'acct-new', exportKey: 'exp-n' }));
    // The old account's window again, corrected: only its rows are replaced.
    const again = await upgraded.load(
      loadJob({
        rows: rowsFor(windowA, 4, 'o'),
        account: 'acct-old',
        loadedAt: new Date('2026-11-28T11:00:00Z'),
      }),
    );
    expect(again).toEqual({ rows: 4, replaced: 5 });
    const rows = fake.rows(dataset, 'copilot_kb');
    expect(
      rows.filter((r) => r._account === 'acct-new').map((r) => String(r.contact_id).slice(0, 2)),
    ).toEqual(Array(3).fill('n-'));
    expect(
      rows.filter((r) => r._account === 'acct-old').map((r) => String(r.contact_id).slice(0, 2)),
    ).toEqual(Array(4).fill('o-'));
    // Prepared again (a load of the next export), nothing more is asked.
    await upgraded.ensureTable(copilotKb, [], async () => {
      asked++;
      return 'acct-old';
    });
    expect(asked).toBe(1);
  });

  it('finishes an _account migration that was cut short, and changes nothing when the account cannot be told', async () => {
    await dest.ensureTable(copilotKb, [], noExistingRows);
    await dest.load(loadJob({ rows: rowsFor(windowA, 5, 'a') }));
    asEarlierVersion();
    const fieldNames = () =>
      (fake.tables.get(`${dataset}.copilot_kb`)!.resource.schema.fields as { name: string }[]).map(
        (f) => f.name,
      );

    // The ledger cannot tell whose rows they are: refused before anything changes.
    await expect(
      newProcess().ensureTable(copilotKb, [], async () => {
        throw new ConfigError('several accounts');
      }),
    ).rejects.toThrow(ConfigError);
    expect(fieldNames()).not.toContain('_account');

    // The fill fails after the column was added (a process killed there would leave the same).
    fake.faults.failStatement = /^UPDATE/;
    await expect(newProcess().ensureTable(copilotKb, [], async () => 'acct-old')).rejects.toThrow();
    expect(fieldNames()).toContain('_account');
    expect(fake.rows(dataset, 'copilot_kb').map((r) => r._account ?? null)).toEqual(Array(5).fill(null));

    // The next process finishes it before it loads anything.
    fake.faults.failStatement = undefined;
    const next = newProcess();
    await next.ensureTable(copilotKb, [], async () => 'acct-old');
    expect(fake.rows(dataset, 'copilot_kb').map((r) => r._account)).toEqual(Array(5).fill('acct-old'));
    await next.load(loadJob({ rows: rowsFor(windowA, 2, 'o'), account: 'acct-old', exportKey: 'exp-o' }));
    expect(fake.rows(dataset, 'copilot_kb')).toHaveLength(2);
    // Done once: the label says so, and a later process asks nothing.
    let asked = 0;
    await newProcess().ensureTable(copilotKb, [], async () => {
      asked++;
      return 'acct-old';
    });
    expect(asked).toBe(0);
  });

  it('re-attaches to the load job and to the replace job when an insert response is lost (409), never running either twice', async () => {
    await dest.ensureTable(copilotKb, [], noExistingRows);
    fake.faults.loseNextUploadResponse = true;
    fake.faults.loseNextQueryInsertResponse = true;
    fake.faults.runningPolls = 2;
    const loadedAt = new Date('2026-11-28T10:00:00Z');
    const result = await dest.load(loadJob({ rows: rowsFor(windowA, 20, 'a'), loadedAt }));
    expect(result.rows).toBe(20);
    const ids = loadJobIds(dataset, copilotKb, 'acct-a', 'vendor-export-1', loadedAt);
    const uploads = fake.requests.filter((r) => r.path.startsWith('/upload/'));
    expect(uploads.map((u) => u.body.jobReference.jobId)).toEqual([ids.load, ids.load]);
    const inserts = fake.requests.filter(
      (r) => r.method === 'POST' && r.path.endsWith('/jobs') && r.body?.configuration?.query,
    );
    expect(inserts.map((u) => u.body.jobReference.jobId)).toEqual([ids.replace, ids.replace]);
    // One job of each, and the rows are in once.
    expect([...fake.jobs.keys()].filter((k) => k.startsWith('cxone_od_sync_'))).toEqual([
      ids.load,
      ids.replace,
    ]);
    expect(fake.rows(dataset, 'copilot_kb')).toHaveLength(20);
    // The RUNNING jobs were polled until done.
    expect(
      fake.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/jobs/${ids.load}`)).length,
    ).toBeGreaterThanOrEqual(3);
  });

  it('leaves the table as it was when the replace transaction fails, and when the load job fails', async () => {
    await dest.ensureTable(copilotKb, [], noExistingRows);
    await dest.load(loadJob({ rows: rowsFor(windowA, 10, 'a'), loadedAt: new Date('2026-11-28T10:00:00Z') }));
    const before = JSON.stringify(fake.rows(dataset, 'copilot_kb'));

    fake.faults.failStatement = /^INSERT/;
    await expect(
      dest.load(loadJob({ rows: rowsFor(windowA, 15, 'b'), loadedAt: new Date('2026-11-28T11:00:00Z') })),
    ).rejects.toThrow(
      /replace transaction .* failed: invalidQuery: Query error: simulated failure.*watermark unchanged/,
    );
    // The DELETE ran before the failing INSERT, and was rolled back with it.
    expect(JSON.stringify(fake.rows(dataset, 'copilot_kb'))).toBe(before);

    fake.faults.failStatement = undefined;
    fake.faults.failLoads = true;
    await expect(
      dest.load(loadJob({ rows: rowsFor(windowA, 15, 'c'), loadedAt: new Date('2026-11-28T12:00:00Z') })),
    ).rejects.toThrow(/load job .* failed: invalidQuery: .*JSON parsing error/);
    expect(JSON.stringify(fake.rows(dataset, 'copilot_kb'))).toBe(before);
    // No replace was attempted after the failed load.
    expect(
      fake.requests.filter((r) => r.body?.configuration?.query && !r.body.configuration.dryRun),
    ).toHaveLength(2);
  });

  it('loads a column added by drift (evolve) into the widened table', async () => {
    const drifted: ColumnSpec = {
      name: 'sentiment_score',
      type: 'text',
      headers: ['Sentiment Score'],
      description: 'Column found in the export; not in the schema (schemaDrift: evolve).',
    };
    await dest.ensureTable(copilotKb, [drifted], noExistingRows);
    const rows = rowsFor(windowA, 4, 'd').map((r, i) => ({ ...r, values: [...r.values, `score-${i}`] }));
    await dest.load(loadJob({ rows, columns: [...kbColumns, drifted] }));
    const upload = fake.requests.find((r) => r.path.startsWith('/upload/'));
    expect(upload?.body.configuration.load.schema.fields[5]).toMatchObject({
      name: 'sentiment_score',
      type: 'STRING',
      mode: 'NULLABLE',
    });
    expect(fake.rows(dataset, 'copilot_kb').map((r) => r.sentiment_score)).toEqual([
      'score-0',
      'score-1',
      'score-2',
      'score-3',
    ]);
  });

  it('abandons before any load job when the rows are refused (too many rejected)', async () => {
    await dest.ensureTable(copilotKb, [], noExistingRows);
    const job = loadJob({ rows: rowsFor(windowA, 5, 'a') });
    const refusing: LoadJob = {
      ...job,
      beforeCommit: async () => {
        throw new Error('too many rejected rows');
      },
    };
    await expect(dest.load(refusing)).rejects.toThrow('too many rejected rows');
    expect(fake.requests.filter((r) => r.path.includes('/jobs'))).toHaveLength(0);
  });

  it('check: reports a dataset the first sync will create, missing permissions, and changes nothing', async () => {
    const streams = [copilotKb];
    expect(await dest.check(streams)).toMatch(/does not exist yet; the first sync creates it in EU/);
    const dry = fake.requests.find((r) => r.body?.configuration?.dryRun);
    expect(dry?.body.configuration.query.query).toBe('SELECT 1');
    expect(fake.datasets.size).toBe(0);
    expect(fake.jobs.size).toBe(0);

    await dest.ensureTable(copilotKb, [], noExistingRows);
    expect(await dest.check(streams)).toMatch(/readable and writable/);
    fake.faults.deniedPermissions = ['bigquery.tables.updateData'];
    await expect(dest.check(streams)).rejects.toThrow(
      /missing BigQuery permissions .* copilot_kb: bigquery.tables.updateData/,
    );

    const unauthorised = new BigQueryDestination({
      projectId: fake.projectId,
      dataset,
      location: 'EU',
      apiEndpoint: fake.url,
      authClient: staticAuth('wrong-token'),
    });
    await expect(unauthorised.check(streams)).rejects.toThrow(
      /cannot read dataset test-project.cxone_ct \(destination.projectId, destination.dataset\)/,
    );
  });
});
