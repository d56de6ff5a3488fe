import { freshnessViewDoc, stateTableDocs } from '../../migrations/index.js';
import type { RelationDoc } from '../../migrations/state-docs.js';
import { stateSchema } from '../state/state-constants.js';
import { code, generatedBanner, mdTable } from './markdown.js';

function relationSection(name: string, kind: 'table' | 'view', doc: RelationDoc): string {
  return [
    `## ${name}`,
    '',
    `${code(`${stateSchema}.${name}`)}, a ${kind}. ${doc.description}`,
    '',
    mdTable(
      ['column', 'meaning'],
      Object.entries(doc.columns).map(([column, meaning]) => [code(column), meaning]),
    ),
  ].join('\n');
}

/** docs/reference/state.md: the state store's tables and views, from the text the migrations comment them with. */
export function stateReference(): string {
  return `${[
    '# State store reference',
    '',
    generatedBanner('`migrations/` (the text of their `COMMENT ON`)'),
    '',
    `The connector's own tables, in the schema ${code(stateSchema)} of the state store: the export`,
    'ledger, watermarks, gaps, the run log, rejected rows, quota and schedule. Each table, view and',
    `column carries the same text as a comment in the database (${code(`\\d+ ${stateSchema}.freshness`)} in`,
    '`psql`), and `dbt-sources` documents the freshness view, `exports` and `rejected_rows` with it.',
    'How to read them is in [Analysts](../analysts.md).',
    '',
    relationSection('freshness', 'view', freshnessViewDoc),
    '',
    ...Object.entries(stateTableDocs).flatMap(([name, doc]) => [relationSection(name, 'table', doc), '']),
  ]
    .join('\n')
    .trimEnd()}\n`;
}
