import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const dir = resolve(import.meta.dirname, '../fixtures/openlineage');

interface FacetSchema {
  readonly id: string;
  readonly definition: string;
}

/** ajv-formats is CommonJS: under NodeNext its default import is `module.exports`, whose `default` is the plugin. */
const addFormats = addFormatsModule.default;

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const facets = new Map<string, FacetSchema>();
for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  const schema = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    $id: string;
    properties?: Record<string, { $ref: string }>;
  };
  ajv.addSchema(schema);
  for (const [name, prop] of Object.entries(schema.properties ?? {}))
    facets.set(name, { id: schema.$id, definition: prop.$ref.replace('#/$defs/', '') });
}
const coreId = 'https://openlineage.io/spec/2-0-2/OpenLineage.json';

type Json = Record<string, unknown>;

/**
 * Every way `event` breaks the OpenLineage spec as the fixtures hold it: the event against the
 * core schema (2-0-2), each facet against its own schema, each facet's `_schemaURL` pointing at
 * that schema's definition, and no facet the fixtures have no schema for. Empty when valid.
 */
export function openLineageProblems(event: unknown): string[] {
  const problems: string[] = [];
  const check = (id: string, value: unknown, at: string) => {
    const validate = ajv.getSchema(id);
    if (!validate) return problems.push(`${at}: no schema ${id}`);
    if (!validate(value))
      for (const e of validate.errors ?? []) problems.push(`${at}${e.instancePath}: ${e.message}`);
    return undefined;
  };
  check(coreId, event, 'event');
  const e = event as Json;
  const facetGroups: [string, unknown][] = [
    ['run.facets', (e.run as Json | undefined)?.facets],
    ['job.facets', (e.job as Json | undefined)?.facets],
  ];
  for (const side of ['inputs', 'outputs'] as const) {
    for (const [i, d] of ((e[side] as Json[] | undefined) ?? []).entries()) {
      facetGroups.push([`${side}[${i}].facets`, d.facets]);
      facetGroups.push([
        `${side}[${i}].${side === 'inputs' ? 'inputFacets' : 'outputFacets'}`,
        d[side === 'inputs' ? 'inputFacets' : 'outputFacets'],
      ]);
    }
  }
  for (const [at, group] of facetGroups) {
    for (const [name, facet] of Object.entries((group as Json | undefined) ?? {})) {
      const schema = facets.get(name);
      if (!schema) {
        problems.push(`${at}.${name}: no schema for this facet in test/fixtures/openlineage`);
        continue;
      }
      check(schema.id, { [name]: facet }, `${at}.${name}`);
      const url = (facet as Json)._schemaURL;
      if (url !== `${schema.id}#/$defs/${schema.definition}`)
        problems.push(
          `${at}.${name}._schemaURL: ${String(url)} is not ${schema.id}#/$defs/${schema.definition}`,
        );
    }
  }
  return problems;
}
