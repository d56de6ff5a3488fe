import type { Config } from './config-schema.js';

/**
 * How far a `start` may lie ahead of now: the most any time zone is ahead of UTC (UTC+14), so
 * that today's date written where the day has begun already (a date alone is its midnight UTC)
 * is not refused.
 */
const aheadOfUtcMs = 14 * 3_600_000;

/**
 * Each stream `start` in the future, as a problem naming the setting: nothing of the stream is
 * ever due before it, and no run would say why; it is a typo (a year, a month) far more often
 * than a plan. Both the top-level `streams` and each account's own are read.
 */
export function futureStarts(cfg: Config, now: Date): string[] {
  const sections: [string, Config['streams']][] = [
    ['streams', cfg.streams],
    ...Object.entries(cfg.accounts ?? {}).map(([key, a]): [string, Config['streams']] => [
      `accounts.${key}.streams`,
      a.streams,
    ]),
  ];
  return sections.flatMap(([at, streams]) =>
    Object.entries(streams ?? {}).flatMap(([name, opts]) =>
      opts.start && opts.start.getTime() > now.getTime() + aheadOfUtcMs
        ? [
            `${at}.${name}.start: ${opts.start.toISOString()} is in the future (now ${now.toISOString()}): nothing of ${name} would be exported before then; set the oldest time to export, or leave start out to begin at the 4-month horizon`,
          ]
        : [],
    ),
  );
}
