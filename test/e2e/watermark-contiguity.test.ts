import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copilotKb } from '../../schemas/copilot-kb.js';
import { e2eFixtures } from '../support/e2e-fixture.js';
import { expectTableMatchesSimulator } from '../support/table-expectations.js';
import type { TestDatabase } from '../support/test-database.js';

const dayMs = 86_400_000;
const midnight = (daysAgo: number) => {
  const d = new Date(Date.now() - daysAgo * dayMs);
  d.setUTCHours(0, 0, 0, 0);
  return d;
};

/**
 * A stream's watermark moves only over what is loaded without a hole: the first watermark of a
 * stream is set by a window that reaches back to the stream's start (or to a gap recorded from it),
 * never by a window further on.
 */
describe('watermark contiguity (e2e)', () => {
  const startE2e = e2eFixtures();

  const watermarkOf = async (db: TestDatabase) =>
    (
      await db.query<{ watermark: Date }>(
        `select watermark from cxone_od_sync.watermarks where stream = 'copilot_kb'`,
      )
    )[0]?.watermark;

  it('a backfill before the first sync sets no watermark; the first sync then loads from the start', async () => {
    const start = midnight(6);
    const { db, ws, cli } = await startE2e({
      sim: { faults: { quota: 10 } },
      config: { streams: { copilot_kb: { start: start.toISOString() } } },
    });
    const backfill = await cli([
      'sync',
      '--json',
      '--start',
      midnight(3).toISOString(),
      '--end',
      midnight(2).toISOString(),
    ]);
    expect(backfill.code, backfill.stderr).toBe(0);
    expect(backfill.json.streams[0].exports[0].status).toBe('loaded');
    // The days between the stream's start and the backfill are not loaded: no watermark yet.
    expect(await watermarkOf(db)).toBeUndefined();
    const plan = await cli(['plan', '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.json.streams[0].windows[0].start).toBe(start.toISOString());

    const first = await cli(['sync', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(ws.sim.stats.exportRequests.map((r) => Date.parse(r.startDate))).toEqual([
      midnight(3).getTime(),
      start.getTime(),
    ]);
    const loaded = first.json.streams[0].exports[0];
    expect(loaded.status).toBe('loaded');
    expect((await watermarkOf(db))?.toISOString()).toBe(loaded.windowEnd);
    // Every row from the start on, the backfill's window replaced by the sync's, none twice.
    await expectTableMatchesSimulator(db, copilotKb);
  });

  it('a file loaded by hand for a stream never synced sets no watermark', async () => {
    const { db, ws, cli } = await startE2e({
      config: { streams: { copilot_kb: { start: midnight(6).toISOString() } } },
    });
    // An export with no rows (no header at all) is a window like any other.
    const file = join(ws.dir, 'kb.csv');
    await writeFile(file, '');
    const r = await cli([
      'load-file',
      file,
      '--stream',
      'copilot_kb',
      '--start',
      midnight(2).toISOString(),
      '--end',
      midnight(1).toISOString(),
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(await watermarkOf(db)).toBeUndefined();
  });

  it('the first sync of a stream whose start is older than the horizon records the gap and sets the watermark', async () => {
    const { db, cli } = await startE2e({
      config: { streams: { copilot_kb: { start: new Date(Date.now() - 200 * dayMs).toISOString() } } },
    });
    const r = await cli(['sync', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.streams[0].gaps).toHaveLength(1);
    expect((await watermarkOf(db))?.toISOString()).toBe(r.json.streams[0].exports[0].windowEnd);
  });

  it('the first sync of a stream with no start begins at the horizon and sets the watermark', async () => {
    const { db, cli } = await startE2e({ config: { streams: { copilot_kb: {} } } });
    const r = await cli(['sync', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((await watermarkOf(db))?.toISOString()).toBe(r.json.streams[0].exports[0].windowEnd);
  });
});
