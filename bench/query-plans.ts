/**
 * The history bench's EXPLAIN: the statements a CLI process sent (recorded by
 * `query-recorder.ts`), each explained once against a store, and the scans its plan makes.
 */
import { readFile } from 'node:fs/promises';
import type pg from 'pg';

/** One recorded statement. */
export interface RecordedQuery {
  readonly text: string;
  readonly values: readonly unknown[];
}

/** How a plan reads one table. */
export interface TableScan {
  readonly table: string;
  /** `seq`, or the index it uses. */
  readonly via: string;
  /** The table's rows as the planner knows them (reltuples). */
  readonly rows: number;
}

export interface ExplainedQuery {
  readonly text: string;
  readonly scans: readonly TableScan[];
}

/** Statements that are not the state store's or the destination's reads and writes. */
const skipped =
  /^\s*(begin|commit|rollback|savepoint|release|set |create |alter |comment |drop |copy |lock |select 1\b)|pg_advisory|information_schema|pg_catalog|pg_class|pg_namespace|pg_index|pg_attribute|kysely_migration|pg_description|current_setting/i;

/** The recorded statements of a file, once each (by text), in the order first sent. */
export async function readRecorded(file: string): Promise<RecordedQuery[]> {
  const seen = new Map<string, RecordedQuery>();
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (!line) continue;
    const q = JSON.parse(line) as RecordedQuery;
    if (skipped.test(q.text) || seen.has(q.text)) continue;
    seen.set(q.text, q);
  }
  return [...seen.values()];
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Schema?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** EXPLAINs each statement (without running it) and lists the tables its plan reads, and how. */
export async function explainAll(
  db: pg.Client,
  queries: readonly RecordedQuery[],
): Promise<ExplainedQuery[]> {
  const sizes = new Map<string, number>();
  const r = await db.query<{ name: string; rows: string }>(
    `select n.nspname || '.' || c.relname as name, greatest(c.reltuples, 0)::bigint as rows
      from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'r'`,
  );
  for (const row of r.rows) sizes.set(row.name, Number(row.rows));
  const out: ExplainedQuery[] = [];
  for (const q of queries) {
    const plan = await db.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
      `explain (format json, verbose) ${q.text}`,
      q.values as unknown[],
    );
    const scans: TableScan[] = [];
    const walk = (n: PlanNode, bitmapIndex?: string) => {
      if (n['Relation Name']) {
        const table = `${n.Schema ?? 'public'}.${n['Relation Name']}`;
        const via =
          n['Node Type'] === 'Seq Scan'
            ? 'seq'
            : (n['Index Name'] ?? bitmapIndex ?? firstIndex(n.Plans ?? []) ?? n['Node Type']);
        if (!['Insert', 'Update', 'Delete', 'ModifyTable'].includes(n['Node Type']) || !n.Plans?.length)
          scans.push({ table, via, rows: sizes.get(table) ?? 0 });
      }
      for (const c of n.Plans ?? []) walk(c);
    };
    walk(plan.rows[0]!['QUERY PLAN'][0]!.Plan);
    out.push({ text: q.text, scans: scans.filter((s) => !['Insert', 'Result'].includes(s.via)) });
  }
  return out;
}

function firstIndex(nodes: readonly PlanNode[]): string | undefined {
  for (const n of nodes) {
    if (n['Index Name']) return n['Index Name'];
    const inner = firstIndex(n.Plans ?? []);
    if (inner) return inner;
  }
  return undefined;
}

/** The statement on one line, shortened: enough to find it in the code. */
export function shortText(text: string, max = 110): string {
  const one = text
    .replace(/\s+/g, ' ')
    .replace(/"cxone_od_sync"\./g, '')
    .trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}
