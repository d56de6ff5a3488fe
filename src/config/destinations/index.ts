import type { DestinationSection } from '../../ports/destination.js';
import { bigquerySection } from './bigquery-section.js';
import { postgresSection } from './postgres-section.js';

/**
 * Every destination's config section, one line each: the config schema builds its `destination`
 * union from them. `connectors/destinations.ts` lists the factories built on them, in the same
 * order (a test holds the two lists together).
 */
export const destinationSections = [postgresSection, bigquerySection] as const;

/** The section of a `destination.type` the config schema accepted. */
export function destinationSection(type: string): DestinationSection {
  const section = destinationSections.find((s) => s.type === type);
  if (!section) throw new Error(`no destination of type ${type} (src/config/destinations/index.ts)`);
  return section as DestinationSection;
}
