import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copilotKb } from '../../schemas/copilot-kb.js';
import { e2eFixtures } from '../support/e2e-fixture.js';

/**
 * The three ways rows reach PostgreSQL give the same table for the same awkward file:
 * binary COPY (types as the connector creates them), CSV COPY (a column type changed by hand)
 * and batched INSERTs of decoded rows (a server without COPY), the last being the plain
 * reading every other path must agree with. The file crosses buffer and batch boundaries and
 * holds what each encoder treats specially.
 */
describe('bulk load paths agree (e2e)', () => {
  const startE2e = e2eFixtures();

  const start = new Date('2026-11-10T00:00:00Z');
  const end = new Date('2026-11-11T00:00:00Z');

  function awkwardExport(): Buffer {
    const header = copilotKb.columns.map((c) => c.headers[0]).join(',');
    const lines: (string | Buffer)[] = [`\uFEFF${header}`];
    const row = (cells: string[]) => lines.push(cells.join(','));
    const base = [
      '2026-11-10 08:00:00',
      '700000001',
      '1001',
      'Ana García',
      'Support',
      'Billing Inquiry',
      'Voice',
      'profile-abc',
      'sug-1',
      'Reset a password',
      'Password reset',
      'Used',
      '3',
      '1',
      '4',
      '120.5',
    ];
    const at = (i: number, v: string) => {
      const r = [...base];
      r[i] = v;
      return r;
    };
    row(base);
    row(at(9, '"Quotes ""inside"", commas, and\r\na line break"'));
    row(at(9, '""')); // quoted empty: NULL like an empty cell
    row(at(9, '5" screen')); // a quote inside an unquoted field
    row(at(3, '"山田 太郎 🍰"'));
    row(at(15, '"1,234.5"'));
    row(at(15, '12%'));
    row(at(15, '-0.000000000000001'));
    row(at(13, '9223372036854775807'));
    row(at(13, '12.0'));
    row(at(14, ''));
    row(at(15, ' '));
    row(at(0, '11/10/2026 01:30:00 PM'));
    row(at(0, '2026-11-10T10:00:00+01:00'));
    row(at(0, '2026-11-10 23:59:59.999'));
    row(at(12, 'not-a-number')); // rejected
    row(at(0, '2026-11-12 00:00:00')); // outside the window: rejected
    row(at(9, `"${'long text '.repeat(40_000)}"`)); // 400 kB: larger than a COPY buffer
    lines.push('');
    // A text cell that is not valid UTF-8 (0xff): rejected on every path, never loaded as U+FFFD.
    const invalid = Buffer.from(at(10, 'Cat\u0001egory').join(','));
    invalid[invalid.indexOf(1)] = 0xff;
    lines.push(invalid);
    row(at(10, 'Nul\u0000byte')); // no database text holds NUL: rejected
    // Enough rows to cross scanner batches and COPY buffers.
    for (let i = 0; i < 9000; i++) {
      const t = new Date(start.getTime() + i * 9_000).toISOString().replace('T', ' ').slice(0, 19);
      row([
        t,
        String(800000000 + i),
        String(1000 + (i % 50)),
        i % 7 ? 'Björn Müller' : '"Chloé ""Ace"" O\'Brien"',
        i % 3 ? 'Support' : '"Tier 2, Escalations"',
        'Retention',
        'Chat',
        'profile-def',
        `sug-${i}`,
        i % 11 ? `Article ${i}` : '',
        'Shipping',
        'Ignored',
        String(i % 5),
        String(i % 3),
        i % 4 ? String(i % 5) : '',
        String((i * 37) / 100),
      ]);
    }
    return Buffer.concat(
      lines.map((l) =>
        typeof l === 'string' ? Buffer.from(`${l}\r\n`) : Buffer.concat([l, Buffer.from('\r\n')]),
      ),
    );
  }

  it('binary COPY, CSV COPY and INSERTs load the same rows and reject the same ones', async (ctx) => {
    const { db, ws, cli } = await startE2e();
    // The embedded PGlite server (no DATABASE_URL, no Docker) takes no COPY FROM STDIN: there is
    // nothing to compare the INSERT path with, and the INSERT path is what every other e2e test
    // runs on that server.
    if (!db.copy) ctx.skip('the test database server takes no COPY (embedded PGlite)');
    const file = join(ws.dir, 'awkward.csv');
    await writeFile(file, awkwardExport());
    const load = async (schema: string, copy: boolean) => {
      await ws.writeConfig({
        destination: { type: 'postgres', url: db.url, schema, copy },
        defaults: { maxRejectedRatio: 0.5 },
        streams: { copilot_kb: {} },
      });
      return cli([
        'load-file',
        file,
        '--stream',
        'copilot_kb',
        '--start',
        start.toISOString(),
        '--end',
        end.toISOString(),
        '--json',
      ]);
    };
    const inserted = await load('via_insert', false);

    expect(inserted.code, inserted.stderr).toBe(0);
    const binary = await load('via_binary', true);
    expect(binary.code, binary.stderr).toBe(0);
    // A column type changed by hand: the binary format no longer fits, CSV COPY takes over.
    await ws.writeConfig({
      destination: { type: 'postgres', url: db.url, schema: 'via_csv' },
      streams: { copilot_kb: {} },
    });
    const migrated = await cli(['migrate']);
    expect(migrated.code, migrated.stderr).toBe(0);
    await db.query('alter table via_csv.copilot_kb alter column latency_ms type numeric');
    const csv = await load('via_csv', true);
    expect(csv.code, csv.stderr).toBe(0);

    const cols = [...copilotKb.columns.map((c) => c.name), '_source_line', '_window_start', '_window_end']
      .map((c) => (c === 'latency_ms' ? `"${c}"::float8 as "${c}"` : `"${c}"`))
      .join(', ');
    const rows = (schema: string) =>
      db.query<Record<string, unknown>>(`select ${cols} from ${schema}.copilot_kb order by _source_line`);
    const reference = await rows('via_insert');
    // Lines 2, 3 (to 4), 5-17 and 20 of the awkward part (18, 19, 22 and 23 are rejected, 21 is
    // empty), and the filler.
    expect(reference.length).toBe(16 + 9000);
    expect(await rows('via_binary')).toEqual(reference);
    expect(await rows('via_csv')).toEqual(reference);

    const byLine = new Map(reference.map((r) => [Number(r._source_line), r]));
    expect(byLine.get(3)?.knowledge_article).toBe('Quotes "inside", commas, and\r\na line break');
    expect(byLine.get(5)?.knowledge_article).toBeNull();
    expect(byLine.get(6)?.knowledge_article).toBe('5" screen');
    expect(byLine.get(7)?.agent_name).toBe('山田 太郎 🍰');
    expect(byLine.get(8)?.latency_ms).toBe(1234.5);
    expect(byLine.get(11)?.suggestions_used).toBe('9223372036854775807');
    expect(byLine.get(13)?.feedback_rating).toBeNull();
    expect(String(byLine.get(20)?.knowledge_article).length).toBe(400_000);
    expect(byLine.has(22)).toBe(false);

    // Every path rejected the same lines, for the same reasons.
    const rejected = await db.query<{ line: string; reason: string; raw: string }>(
      `select line, reason, raw from cxone_od_sync.rejected_rows order by export_id, line`,
    );
    expect(rejected.find((r) => r.line === '23')?.raw).toContain('Nul\u2400byte');
    expect(rejected.find((r) => r.line === '22')?.reason).toBe(
      'category: invalid UTF-8 at byte 4 of the value',
    );
    expect(rejected.map((r) => [Number(r.line), r.reason.split(':')[0]])).toEqual(
      [0, 1, 2].flatMap(() => [
        [18, 'suggestions_shown'],
        [19, 'interaction_time 2026-11-12T00'],
        [22, 'category'],
        [23, 'category'],
      ]),
    );
  });
});
