import { describe, expect, it } from 'vitest';
import { ClockSkewError } from '../../src/errors.js';
import { silentLogger } from '../../src/log/logger.js';
import type { ExportApi, ServerClockReading } from '../../src/ports/export-api.js';
import { assertClockAgrees } from '../../src/run/clock-check.js';

const at = Date.parse('2026-11-28T12:00:00Z');
const api = (reading: ServerClockReading | undefined) =>
  ({ serverClock: async () => reading }) as unknown as ExportApi;
/** A reading taken at `at` (the engine's clock) from a vendor `localMinusServerMs` behind it. */
const skewed = (localMinusServerMs: number) =>
  api({ serverTime: new Date(at - localMinusServerMs), localTime: new Date(at) });
const now = new Date(at);

describe('assertClockAgrees', () => {
  it('accepts a local clock up to 5 minutes from the vendor, either way', async () => {
    for (const ms of [0, 299_000, -300_000])
      await expect(assertClockAgrees(skewed(ms), silentLogger, now)).resolves.toBe(true);
  });

  it('refuses one further off, naming both times and the direction', async () => {
    const ahead = assertClockAgrees(skewed(2 * 86_400_000), silentLogger, now);
    await expect(ahead).rejects.toBeInstanceOf(ClockSkewError);
    await expect(ahead).rejects.toThrow(
      "the local clock (2026-11-28T12:00:00.000Z) is 2880 minutes ahead of the vendor's (Date header 2026-11-26T12:00:00.000Z)",
    );
    await expect(assertClockAgrees(skewed(-301_000), silentLogger, now)).rejects.toThrow(
      /5 minutes behind the vendor's/,
    );
    const err = await assertClockAgrees(skewed(-400_000), silentLogger, now).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: false, exitCode: 1 });
  });

  it('does not check a vendor that sends no Date header', async () => {
    await expect(assertClockAgrees(api(undefined), silentLogger, now)).resolves.toBe(true);
  });

  it('reports the clock as unchecked when no reading can be had (token endpoint down)', async () => {
    const down = {
      serverClock: async () => {
        throw new Error('token endpoint answered HTTP 503');
      },
    } as unknown as ExportApi;
    await expect(assertClockAgrees(down, silentLogger, now)).resolves.toBe(false);
  });
});
