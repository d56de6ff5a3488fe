import type { DestinationFactory } from '../src/ports/destination.js';
import { bigqueryDestinationFactory } from './bigquery/index.js';
import { postgresDestinationFactory } from './postgres/index.js';

/**
 * Every destination, one line each (no directory scan), in the order of their config sections
 * (`src/config/destinations/index.ts`): the composition root and the CLI create the configured
 * one through it. A new destination is a section there, a folder exporting a
 * `DestinationFactory` built on it, and one line here.
 */
export const destinationFactories = [postgresDestinationFactory, bigqueryDestinationFactory] as const;

/** The factory of a `destination.type` the config schema accepted. */
export function destinationFactory(type: string): DestinationFactory {
  const factory = destinationFactories.find((f) => f.type === type);
  if (!factory) throw new Error(`no destination of type ${type} (connectors/destinations.ts)`);
  return factory as DestinationFactory;
}
