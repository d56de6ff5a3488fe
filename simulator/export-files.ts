import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findStreamSchema } from '../schemas/index.js';
import type { FaultPlan } from './fault-plan.js';
import { csvCell, type DataOptions, displayHeaders, formatCell, generateRows } from './simulator-data.js';
import type { ExportRecord } from './simulator-state.js';

/**
 * The CSV file of each export: the seeded rows of its window that match its channels and
 * filters, written once into a temporary directory on the first download, with the data faults
 * (malformed values, a drifted header, raw header bytes) in force at that moment. A stream listed in
 * `staticFiles` is served from that file instead (the benchmark's pre-generated CSV).
 */
export class ExportFiles {
  readonly #files = new Map<string, Promise<string>>();

  private constructor(
    private readonly dir: string,
    private readonly faults: FaultPlan,
    private readonly data: DataOptions | undefined,
    private readonly staticFiles: Record<string, string> | undefined,
  ) {}

  static async create(
    faults: FaultPlan,
    data: DataOptions | undefined,
    staticFiles: Record<string, string> | undefined,
  ): Promise<ExportFiles> {
    return new ExportFiles(await mkdtemp(join(tmpdir(), 'cxone-sim-')), faults, data, staticFiles);
  }

  /** The path of the export's file, written on the first call. */
  async fileFor(rec: ExportRecord, fileName: string): Promise<string> {
    const fixed = this.staticFiles?.[rec.stream];
    if (fixed) return fixed;
    let p = this.#files.get(rec.id);
    if (!p) {
      p = this.#write(rec, join(this.dir, `${rec.id}-${fileName.replace(/[^A-Za-z0-9._-]/g, '_')}.csv`));
      this.#files.set(rec.id, p);
    }
    return p;
  }

  /** Deletes every file written. */
  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  async #write(rec: ExportRecord, path: string): Promise<string> {
    const faults = this.faults;
    const out = createWriteStream(path);
    const cols = displayHeaders(rec.stream);
    const headers = cols.map((c) => {
      const raw = faults.rawHeader(c.header);
      return Buffer.from(csvCell(raw ?? c.header), raw === undefined ? 'utf8' : 'latin1');
    });
    if (faults.driftExtraHeader) headers.push(Buffer.from('Sentiment Score'));
    const write = async (s: string | Buffer) => {
      if (!out.write(s)) await once(out, 'drain');
    };
    const comma = Buffer.from(',');
    await write(
      Buffer.concat([
        Buffer.from('\uFEFF'),
        ...headers.flatMap((h, i) => (i ? [comma, h] : [h])),
        Buffer.from('\r\n'),
      ]),
    );
    const body = rec.body as RequestFilters;
    let i = 0;
    let batch = '';
    for (const row of generateRows(rec.stream, new Date(rec.startDate), new Date(rec.endDate), this.data)) {
      if (!matchesFilters(row, body)) continue;
      i++;
      const cells = cols.map((c, ci) =>
        csvCell(formatCell(rec.stream, c.column, row[c.column] ?? null, rec.timeZone, i + ci)),
      );
      const malformedEvery = faults.malformedEvery;
      if (malformedEvery && i % malformedEvery === 0) {
        const typed = findStreamSchema(rec.stream)!.columns.findIndex(
          (c) => c.type === 'integer' || c.type === 'number',
        );
        cells[typed] = 'not-a-number';
      }
      if (faults.driftExtraHeader) cells.push(String((i % 100) / 100));
      batch += `${cells.join(',')}\r\n`;
      if (batch.length > 65_536) {
        await write(batch);
        batch = '';
      }
    }
    await write(batch);
    out.end();
    await once(out, 'finish');
    return path;
  }
}

interface RequestFilters {
  channels?: string[];
  filters?: Record<string, string[]>;
}

/** The column each documented filter matches. */
const filterColumns: Record<string, string> = {
  Team: 'team',
  Skill: 'skill',
  CopilotProfileId: 'copilot_profile_id',
  AgentNumber: 'agent_number',
};

function matchesFilters(row: Record<string, unknown>, body: RequestFilters): boolean {
  if (body.channels && body.channels.length > 0 && 'channel' in row) {
    const voice = row.channel === 'Voice';
    if (!body.channels.includes(voice ? 'voice' : 'digital')) return false;
  }
  for (const [k, vals] of Object.entries(body.filters ?? {})) {
    if (vals.length === 0) continue;
    const col = filterColumns[k];
    if (col && col in row && !vals.includes(String(row[col]))) return false;
  }
  return true;
}
