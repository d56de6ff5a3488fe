import { describe, expect, it } from 'vitest';
import { destinationFactories, destinationFactory } from '../../connectors/destinations.js';
import { destinationSection, destinationSections } from '../../src/config/destinations/index.js';

describe('destination registries', () => {
  it('lists a factory for every config section, in the same order, each built on its section', () => {
    expect(destinationFactories.map((f) => f.type)).toEqual(destinationSections.map((s) => s.type));
    for (const section of destinationSections) {
      const factory = destinationFactory(section.type);
      expect(factory.configSchema).toBe(section.configSchema);
      expect(factory.databaseUrl).toBe(section.databaseUrl);
      expect(factory.tableLocation).toBe(section.tableLocation);
      expect(typeof factory.create).toBe('function');
    }
  });

  it('names the registry when a type has no section or no factory', () => {
    expect(() => destinationSection('snowflake')).toThrow(/src\/config\/destinations/);
    expect(() => destinationFactory('snowflake')).toThrow(/connectors\/destinations\.ts/);
  });
});
