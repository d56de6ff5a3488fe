import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { type LoadJob, loadConstants } from '../../src/ports/destination.js';

/**
 * Writes the job's rows as newline-delimited JSON for a load job, and counts them: the file's
 * columns under the names `columns` gives them, then `_source_line` and the load's constant
 * metadata (`loadConstants`). NULL cells are left out.
 */
const chunkChars = 64 * 1024;

export async function writeNdjson(file: string, job: LoadJob, columns: readonly string[]): Promise<number> {
  const out = createWriteStream(file);
  const errored = once(out, 'error').then(([e]) => {
    throw e;
  });
  errored.catch(() => {});
  if (!job.rows) throw new Error('the BigQuery destination loads typed rows (it has no copy capability)');
  const width = job.columns.length;
  const constants = loadConstants(job);
  let count = 0;
  let chunk = '';
  for await (const rows of job.rows) {
    for (const row of rows) {
      const obj: Record<string, unknown> = {};
      for (let i = 0; i < width; i++) {
        const v = row.values[i];
        if (v !== null && v !== undefined) obj[columns[i] as string] = v;
      }
      obj._source_line = row.line;
      for (const c of constants) obj[c.column.name] = c.value;
      chunk += `${JSON.stringify(obj)}\n`;
      // Written in pieces of about 64 KiB: a batch's text as one string is megabytes, kept in
      // V8's large-object space, which the process does not give back after the load.
      if (chunk.length >= chunkChars) {
        if (!out.write(chunk)) await Promise.race([once(out, 'drain'), errored]);
        chunk = '';
      }
    }
    count += rows.length;
  }
  out.end(chunk);
  await Promise.race([once(out, 'finish'), errored]);
  return count;
}
