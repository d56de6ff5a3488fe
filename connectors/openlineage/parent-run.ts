/** An orchestrator's run that started this process, as OpenLineage's ParentRunFacet names it. */
export interface ParentRun {
  readonly namespace: string;
  readonly name: string;
  readonly runId: string;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Reads `OPENLINEAGE_PARENT_ID` (and `OPENLINEAGE_ROOT_PARENT_ID`): `{namespace}/{job name}/{run
 * id}`, as Airflow's `lineage_parent_id(task_instance)` macro renders it. Read from the right,
 * since a namespace may hold a `/` (a URI) and neither a job name nor a UUID does. Undefined when
 * the value is not of that form (a run id that is not a UUID, an empty part).
 */
export function parseParentId(value: string): ParentRun | undefined {
  const trimmed = value.trim();
  const last = trimmed.lastIndexOf('/');
  if (last <= 0) return undefined;
  const runId = trimmed.slice(last + 1);
  const rest = trimmed.slice(0, last);
  const middle = rest.lastIndexOf('/');
  if (middle <= 0) return undefined;
  const namespace = rest.slice(0, middle);
  const name = rest.slice(middle + 1);
  if (!namespace || !name || !uuid.test(runId)) return undefined;
  return { namespace, name, runId: runId.toLowerCase() };
}
