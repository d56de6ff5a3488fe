import { bigQueryTypes } from '../../connectors/bigquery/bigquery-types.js';
import { postgresTypes } from '../../connectors/postgres/postgres-types.js';
import { streamSchemas } from '../../schemas/index.js';
import { metadataColumns, requiredColumn, type StreamSchema } from '../model/stream-schema.js';
import { code, generatedBanner, mdTable } from './markdown.js';

function streamSection(s: StreamSchema): string {
  const columns = [
    ...s.columns.map((c) => ({ ...c, headers: c.headers as readonly string[] })),
    ...metadataColumns.map((c) => ({ ...c, headers: [] as readonly string[] })),
  ];
  return [
    `## ${s.name}`,
    '',
    s.description,
    '',
    `- API ${s.apiPaths.length > 1 ? 'paths' : 'path'}: ${s.apiPaths.map(code).join(', ')} (the first unless ${code(`streams.${s.name}.path`)} says otherwise)`,
    `- event time: ${code(s.eventTime)} (the watermark, the windows and the table's index or clustering)`,
    `- request options: channels ${s.accepts.channels ? 'yes' : 'no'}; filters ${s.accepts.filters.length ? s.accepts.filters.map(code).join(', ') : 'none'}`,
    '',
    mdTable(
      ['column', 'type', 'PostgreSQL', 'BigQuery', 'not null', 'CSV headers', 'meaning'],
      columns.map((c) => [
        code(c.name),
        c.type,
        postgresTypes[c.type],
        bigQueryTypes[c.type],
        requiredColumn(s, c.name) ? 'yes' : '',
        c.headers.length ? c.headers.map((h) => code(h)).join(', ') : '(added by the connector)',
        c.description,
      ]),
    ),
  ].join('\n');
}

/** docs/reference/streams.md: every stream's table, from `schemas/` and the destinations' types. */
export function streamReference(): string {
  return `${[
    '# Stream reference',
    '',
    generatedBanner("`schemas/` and the destinations' type maps"),
    '',
    "One table per stream, in PostgreSQL and BigQuery alike. The columns after the stream's own are",
    "the connector's: which export loaded a row, its window, when, from which line and account.",
    '`cxone-od-sync streams --json` gives the same as JSON Schema. How to query them is in',
    '[Analysts](../analysts.md).',
    '',
    ...streamSchemas.flatMap((s) => [streamSection(s), '']),
  ]
    .join('\n')
    .trimEnd()}\n`;
}
