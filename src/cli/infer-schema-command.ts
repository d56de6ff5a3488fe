import { existsSync } from 'node:fs';
import { findStreamSchema } from '../../schemas/index.js';
import { ConfigError } from '../errors.js';
import { readCsvRecords } from '../parse/csv-records.js';
import { normalizeHeader } from '../parse/header-mapping.js';
import { TypeInferrer } from '../parse/infer-types.js';
import { defineCommand } from './cli-command.js';
import { emit } from './output.js';

/**
 * Reads a real export and prints a schema proposal: each header with the column name and type it
 * suggests, and, with `--stream`, which headers the current schema already maps. The output is a
 * `schemas/` file to start from.
 */
export async function inferSchemaCommand(args: {
  file: string;
  stream?: string;
  rows: number;
  json: boolean;
}): Promise<number> {
  if (!existsSync(args.file)) throw new ConfigError(`${args.file}: no such file`);
  const known = args.stream ? findStreamSchema(args.stream) : undefined;
  if (args.stream && !known) throw new ConfigError(`--stream ${args.stream}: unknown stream`);
  const records = readCsvRecords(args.file);
  const first = await records.next();
  if (first.done) throw new ConfigError(`${args.file} is empty`);
  const inferrer = new TypeInferrer(first.value.fields);
  let n = 0;
  for await (const rec of records) {
    inferrer.add(rec.fields);
    if (++n >= args.rows) break;
  }
  await records.return(undefined);
  const columns = inferrer.result().map((c) => {
    const match = known?.columns.find((k) =>
      [k.name, ...k.headers].some((h) => normalizeHeader(h) === normalizeHeader(c.header)),
    );
    return { ...c, existing: match ? { column: match.name, type: match.type } : null };
  });
  const name = args.stream ?? 'new_stream';
  emit({ command: 'infer-schema', file: args.file, rowsRead: n, stream: name, columns }, args.json, () => {
    const lines = columns.map(
      (c) =>
        `    { name: '${c.existing?.column ?? c.name}', type: '${c.existing?.type ?? c.type}', headers: [${JSON.stringify(c.header)}], description: 'TODO'${c.nullable ? '' : ', nullable: false'} },${c.existing ? ` // in schema${c.existing.type !== c.type ? `; samples look like ${c.type}` : ''}` : ' // new'} e.g. ${c.samples.map((s) => JSON.stringify(s)).join(', ')}`,
    );
    return `// ${n} rows of ${args.file} read; a proposal for schemas/${name.replace(/_/g, '-')}.ts\n  columns: [\n${lines.join('\n')}\n  ],`;
  });
  return 0;
}

export const inferSchemaCli = defineCommand({
  command: 'infer-schema <file>',
  describe: 'read a real export and print a schema proposal (headers, types)',
  noAccount: 'it reads the file it is given and no config',
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true })
      .option('stream', { type: 'string', describe: 'compare with this stream schema' })
      .option('rows', { type: 'number', default: 10_000, describe: 'rows to sample' }),
  run: (a) => inferSchemaCommand(a),
});
