import { type ColumnSpec, metadataColumns } from '../../src/model/stream-schema.js';
import type { LoadRunResult, LoadRunStart } from '../../src/ports/lineage.js';
import type { ParentRun } from './parent-run.js';

/** The core spec version the events follow (the schema the tests validate them against). */
export const specVersion = '2-0-2';
export const runEventSchemaUrl = `https://openlineage.io/spec/${specVersion}/OpenLineage.json#/$defs/RunEvent`;

/** Each facet's name in an event, its schema file's version, and its definition's name. */
const facetSchemas = {
  nominalTime: ['1-0-1', 'NominalTimeRunFacet'],
  parent: ['1-2-0', 'ParentRunFacet'],
  processing_engine: ['1-1-1', 'ProcessingEngineRunFacet'],
  errorMessage: ['1-0-1', 'ErrorMessageRunFacet'],
  jobType: ['2-0-4', 'JobTypeJobFacet'],
  schema: ['1-2-0', 'SchemaDatasetFacet'],
  documentation: ['1-1-0', 'DocumentationDatasetFacet'],
  dataSource: ['1-0-1', 'DatasourceDatasetFacet'],
  outputStatistics: ['1-0-2', 'OutputStatisticsOutputDatasetFacet'],
  dataQualityMetrics: ['1-0-3', 'DataQualityMetricsInputDatasetFacet'],
} as const;

export type FacetName = keyof typeof facetSchemas;

/** The `_schemaURL` of a facet: its schema file and the definition in it. */
export function facetSchemaUrl(name: FacetName): string {
  const [version, definition] = facetSchemas[name];
  return `https://openlineage.io/spec/facets/${version}/${definition}.json#/$defs/${definition}`;
}

export type RunEventType = 'START' | 'COMPLETE' | 'FAIL';

/** What every event of this producer shares. */
export interface Producer {
  /** A URI naming this software and its version (`producer`, every facet's `_producer`). */
  readonly uri: string;
  readonly version: string;
  /** The jobs' namespace. */
  readonly namespace: string;
  readonly parent?: ParentRun | undefined;
  readonly root?: ParentRun | undefined;
}

/** One run's identity and how it ended, for one event. */
export interface RunEventInput {
  readonly type: RunEventType;
  readonly runId: string;
  readonly eventTime: Date;
  readonly load: LoadRunStart;
  /** COMPLETE: what the load committed. */
  readonly result?: LoadRunResult | undefined;
  /** FAIL: the error's message, free of secrets. */
  readonly error?: string | undefined;
}

type Json = Record<string, unknown>;

/** The job of a stream's loads: `cxone-od-sync.{account}.{stream}`. */
export function jobName(account: string, stream: string): string {
  return `cxone-od-sync.${account}.${stream}`;
}

/**
 * One OpenLineage RunEvent (spec 2-0-2) of a load: the vendor's table of the account as input,
 * the warehouse table as output, with the facets a lineage system shows for them (schema,
 * documentation, data source), the window as nominal time, the orchestrator's run as parent,
 * and on COMPLETE the rows and bytes written, on FAIL the error.
 */
export function runEvent(producer: Producer, input: RunEventInput): Json {
  const { load, result } = input;
  const facet = (name: FacetName, body: Json): Json => ({
    _producer: producer.uri,
    _schemaURL: facetSchemaUrl(name),
    ...body,
  });
  const runFacets: Json = {
    nominalTime: facet('nominalTime', {
      nominalStartTime: load.window.start.toISOString(),
      nominalEndTime: load.window.end.toISOString(),
    }),
    processing_engine: facet('processing_engine', {
      name: 'cxone-od-sync',
      version: producer.version,
      openlineageAdapterVersion: producer.version,
    }),
  };
  if (producer.parent) runFacets.parent = facet('parent', parentBody(producer.parent, producer.root));
  if (input.type === 'FAIL')
    runFacets.errorMessage = facet('errorMessage', {
      message: input.error ?? 'the load failed',
      programmingLanguage: 'JavaScript',
    });

  const source = (namespace: string) => facet('dataSource', { name: namespace, uri: namespace });
  const inputFields = load.schema.columns.map((c) => field(c.headers[0] ?? c.name, c));
  const outputFields = [
    ...load.schema.columns.map((c) => field(c.name, c)),
    ...(result?.addedColumns ?? []).map((name) => ({
      name,
      type: 'text',
      description: 'A column added by schema drift (schemaDrift: evolve).',
    })),
    ...metadataColumns.map((c) => ({ name: c.name, type: c.type, description: c.description })),
  ];
  const inputDataset: Json = {
    namespace: load.input.namespace,
    name: load.input.name,
    facets: {
      schema: facet('schema', { fields: inputFields }),
      documentation: facet('documentation', {
        description: `${load.schema.description} The CXone Observability Dashboard table ${load.apiPath}, exported as CSV.`,
      }),
      dataSource: source(load.input.namespace),
    },
  };
  const outputDataset: Json = {
    namespace: load.output.namespace,
    name: load.output.name,
    facets: {
      schema: facet('schema', { fields: outputFields }),
      documentation: facet('documentation', { description: load.schema.description }),
      dataSource: source(load.output.namespace),
    },
  };
  if (result) {
    const bytes = load.bytes === null ? {} : { bytes: load.bytes };
    inputDataset.inputFacets = {
      dataQualityMetrics: facet('dataQualityMetrics', {
        rowCount: result.rows + result.rejected,
        ...bytes,
        fileCount: 1,
        columnMetrics: {},
      }),
    };
    outputDataset.outputFacets = {
      outputStatistics: facet('outputStatistics', {
        rowCount: result.rows,
        ...(load.bytes === null ? {} : { size: load.bytes }),
      }),
    };
  }
  return {
    eventType: input.type,
    eventTime: input.eventTime.toISOString(),
    producer: producer.uri,
    schemaURL: runEventSchemaUrl,
    run: { runId: input.runId, facets: runFacets },
    job: {
      namespace: producer.namespace,
      name: jobName(load.account, load.schema.name),
      facets: {
        jobType: facet('jobType', { processingType: 'BATCH', integration: 'CXONE_OD_SYNC', jobType: 'JOB' }),
      },
    },
    inputs: [inputDataset],
    outputs: [outputDataset],
  };
}

function field(name: string, c: ColumnSpec): Json {
  return { name, type: c.type, description: c.description };
}

function parentBody(parent: ParentRun, root: ParentRun | undefined): Json {
  const ref = (r: ParentRun) => ({ run: { runId: r.runId }, job: { namespace: r.namespace, name: r.name } });
  return { ...ref(parent), ...(root ? { root: ref(root) } : {}) };
}
