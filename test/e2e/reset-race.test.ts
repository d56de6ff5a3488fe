import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { createDeployment } from '../../src/deployment/deployment.js';
import { silentLogger } from '../../src/log/logger.js';
import { runSync } from '../../src/run/sync-runner.js';
import { simEnv } from '../support/cli-harness.js';
import { e2eFixtures } from '../support/e2e-fixture.js';

const dayMs = 86_400_000;

/**
 * A `reset` that lands while a sync waits for a quota slot (it has planned from the old
 * watermark, and holds no claim yet) is not undone: the sync requests nothing for the stream.
 * The sync runs in this process, so that the reset happens at a point the test chooses: inside
 * the sync's wait for the slot.
 */
describe('reset racing a planned sync (e2e, in-process sync)', () => {
  const startE2e = e2eFixtures();

  it.each([
    ['cleared', null],
    ['moved back', new Date(Date.now() - 5 * dayMs)],
  ])(
    'a watermark %s while the sync waits for a slot is not undone, and no export is spent',
    async (_, to) => {
      const { db, ws, cli } = await startE2e({
        config: {
          account: { exportsPer24h: 1 },
          streams: { copilot_kb: { start: new Date(Date.now() - 6 * dayMs).toISOString() } },
        },
      });
      const first = await cli(['sync', '--json']);
      expect(first.code, first.stderr).toBe(0);
      // The one export of the day was spent 24 hours less a minute ago: its slot frees in a minute.
      await db.query(
        `update cxone_od_sync.exports set reserved_at = $1, submitted_at = $1, updated_at = $1,
         window_end = least(window_end, $1)`,
        [new Date(Date.now() - dayMs + 60_000)],
      );
      await db.query(`update cxone_od_sync.watermarks set watermark = $1`, [
        new Date(Date.now() - 2 * dayMs),
      ]);
      const requestsBefore = ws.sim.stats.exportRequests.length;

      let now = Date.now();
      const d = createDeployment(
        loadConfig(ws.configPath, { ...process.env, ...simEnv(ws.sim) }),
        silentLogger,
        {
          clock: { now: () => new Date(now) },
        },
      );
      try {
        const ctx = d.accounts[0]!;
        let waits = 0;
        const summary = await runSync(
          {
            ...ctx,
            // The wait for the slot: a reset comes meanwhile, then the slot is free.
            sleep: async (ms: number) => {
              waits++;
              const held = await d.state.watermarks.resetUnlessClaimed(
                ctx.config.accountKey,
                ['copilot_kb'],
                to,
                new Date(now),
              );
              expect(held).toEqual([]);
              now += ms;
            },
          },
          {},
        );
        expect(waits).toBe(1);
        const kb = summary.streams.find((s) => s.stream === 'copilot_kb')!;
        expect(kb.state).toBe('deferred');
        expect(kb.note).toMatch(/reset/);
      } finally {
        await d.close();
      }
      expect(ws.sim.stats.exportRequests).toHaveLength(requestsBefore);
      const watermarks = await db.query<{ watermark: Date }>(
        `select watermark from cxone_od_sync.watermarks`,
      );
      expect(watermarks.map((w) => w.watermark.toISOString())).toEqual(to ? [to.toISOString()] : []);
    },
  );
});
