import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { type LoadJob, loadConstants } from '../../src/ports/destination.js';

/**
 * Writes the job's rows as newline-delimited JSON for a load job, and counts them: the file's
 * columns under the names `columns` gives them, then `_source_line` and the load's constant
 * metadata (`loadConstants`). NULL cells are left out.
 */
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
  for await (const rows of job.rows) {
    let chunk = '';
    for (const row of rows) {
      const obj: Record<string, unknown> = {};
      for (let i = 0; i < width; i++) {
        const v = row.values[i];
        if (v !== null && v !== undefined) obj[columns[i] as string] = v;
      }
      obj._source_line = row.line;
      for (const c of constants) obj[c.column.name] = c.value;
      chunk += `${JSON.stringify(obj)}\n`;
    }
    count += rows.length;
    if (!out.write(chunk)) await Promise.race([once(out, 'drain'), errored]);
  }
  out.end();
  await Promise.race([once(out, 'finish'), errored]);
  return count;
}
