import type { Logger } from '../../src/log/logger.js';
import type { LoadObserver } from '../../src/ports/lineage.js';
import { FileTransport } from './file-transport.js';
import { HttpTransport } from './http-transport.js';
import type { LineageTransport } from './lineage-transport.js';
import { OpenLineageSink } from './openlineage-sink.js';
import { type ParentRun, parseParentId } from './parent-run.js';

/** What the OpenLineage observer is created with (the CLI fills it from `lineage` and the environment). */
export interface OpenLineageOptions {
  /** HTTP transport: the backend's base URL and endpoint, and its bearer key. */
  readonly url?: string | undefined;
  readonly endpoint: string;
  readonly apiKey?: string | undefined;
  /** File transport: one JSON line per event. */
  readonly file?: string | undefined;
  /** The jobs' namespace. */
  readonly namespace: string;
  readonly timeoutMs: number;
  /** `OPENLINEAGE_PARENT_ID` and `OPENLINEAGE_ROOT_PARENT_ID`, as given. */
  readonly parentId?: string | undefined;
  readonly rootParentId?: string | undefined;
  /** This program's version (the producer URI and the processing_engine facet). */
  readonly version: string;
  /** The clock of event times (tests). */
  readonly now?: () => Date;
}

/** The producer URI: a package URL naming this program and its version. */
export function producerUri(version: string): string {
  return `pkg:npm/cxone-od-sync@${version}`;
}

/**
 * The OpenLineage observer of export loads: an HTTP transport when `url` is set, a file transport
 * when `file` is, both when both are. A parent id that is not `namespace/job/runId` is ignored
 * with a warning: the runs are sent without a parent, and the sync goes on.
 */
export function createOpenLineageObserver(options: OpenLineageOptions, log: Logger): LoadObserver {
  const transports: LineageTransport[] = [];
  if (options.url)
    transports.push(
      new HttpTransport({
        url: options.url,
        endpoint: options.endpoint,
        apiKey: options.apiKey,
        timeoutMs: options.timeoutMs,
      }),
    );
  if (options.file) transports.push(new FileTransport(options.file));
  const parent = parentFrom('OPENLINEAGE_PARENT_ID', options.parentId, log);
  const root = parent ? parentFrom('OPENLINEAGE_ROOT_PARENT_ID', options.rootParentId, log) : undefined;
  return new OpenLineageSink({
    producer: {
      uri: producerUri(options.version),
      version: options.version,
      namespace: options.namespace,
      parent,
      root,
    },
    transports,
    timeoutMs: options.timeoutMs,
    log,
    ...(options.now ? { now: options.now } : {}),
  });
}

function parentFrom(variable: string, value: string | undefined, log: Logger): ParentRun | undefined {
  if (!value) return undefined;
  const parsed = parseParentId(value);
  if (!parsed)
    log.warn(
      `${variable} is not {namespace}/{job name}/{run id (a UUID)}; lineage runs are sent without it`,
      {
        value,
      },
    );
  return parsed;
}
