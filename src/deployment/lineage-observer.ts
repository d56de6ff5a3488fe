import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createOpenLineageObserver } from '../../connectors/openlineage/index.js';
import type { LineageSettings } from '../config/lineage-config.js';
import type { Logger } from '../log/logger.js';
import type { LoadObserver } from '../ports/lineage.js';

/** The OpenLineage observer for the `lineage` settings, or undefined when none is configured. */
export function createLineageObserver(
  settings: LineageSettings | undefined,
  log: Logger,
): LoadObserver | undefined {
  if (!settings) return undefined;
  return createOpenLineageObserver({ ...settings, version: packageVersion() }, log);
}

/**
 * This program's version, from the nearest package.json named cxone-od-sync above this file
 * (the repository's from `src/cli` and from `dist/src/cli`; the image's at `/app`).
 */
export function packageVersion(): string {
  let dir = import.meta.dirname;
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'cxone-od-sync' && pkg.version) return pkg.version;
    } catch {
      // none here: one level up
    }
    const up = dirname(dir);
    if (up === dir) return '0.0.0';
    dir = up;
  }
}
