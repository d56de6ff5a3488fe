import { registerSecret } from '../log/redact.js';
import type { Config } from './config-schema.js';

/** The `lineage` section resolved: where OpenLineage events go, and the orchestrator's run. */
export interface LineageSettings {
  /** The backend's base URL (HTTP transport); events go to `{url}/{endpoint}`. */
  readonly url: string | undefined;
  readonly endpoint: string;
  /** Sent as `Authorization: Bearer {apiKey}`; registered for redaction. */
  readonly apiKey: string | undefined;
  /** The jobs' namespace. */
  readonly namespace: string;
  /** A file that gets every event as one JSON line (file transport). */
  readonly file: string | undefined;
  /** The most one event may take; also the most closing waits for what is still pending. */
  readonly timeoutMs: number;
  /** `OPENLINEAGE_PARENT_ID` and `OPENLINEAGE_ROOT_PARENT_ID` as given (`namespace/job/runId`). */
  readonly parentId: string | undefined;
  readonly rootParentId: string | undefined;
}

export const defaultLineageEndpoint = 'api/v1/lineage';
export const defaultLineageNamespace = 'cxone-od-sync';

/** The variables the OpenLineage clients read, for the keys of `lineage` the file leaves unset. */
const fromEnv = {
  url: 'OPENLINEAGE_URL',
  endpoint: 'OPENLINEAGE_ENDPOINT',
  apiKey: 'OPENLINEAGE_API_KEY',
  namespace: 'OPENLINEAGE_NAMESPACE',
} as const;

/**
 * Fills the `lineage` keys the config does not set from `OPENLINEAGE_URL`, `OPENLINEAGE_ENDPOINT`,
 * `OPENLINEAGE_API_KEY` (or `OPENLINEAGE_API_KEY_FILE`) and `OPENLINEAGE_NAMESPACE`, as `${VAR}`
 * references before substitution: the values are then read, validated and redacted like any
 * other. A key the config sets wins. A config that names its own backend (`lineage.url`) takes
 * no endpoint or key from the environment: a key meant for another backend (Airflow's, say)
 * is never sent to it.
 */
export function withLineageFromEnv(cfg: unknown, env: NodeJS.ProcessEnv): unknown {
  if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) return cfg;
  const section = (cfg as { lineage?: unknown }).lineage ?? {};
  if (typeof section !== 'object' || section === null || Array.isArray(section)) return cfg;
  const ownBackend = 'url' in section;
  const added: Record<string, string> = {};
  for (const [key, name] of Object.entries(fromEnv)) {
    if (key in section || (ownBackend && key !== 'namespace')) continue;
    if (env[name] || (key === 'apiKey' && env[`${name}_FILE`])) added[key] = `\${${name}}`;
  }
  if (Object.keys(added).length === 0) return cfg;
  return { ...cfg, lineage: { ...section, ...added } };
}

/**
 * The lineage settings, or undefined when no transport is configured (no `url`, no `file`) or
 * `OPENLINEAGE_DISABLED` is `true`. The API key and a password in the URL are registered as
 * secrets.
 */
export function resolveLineage(
  section: Config['lineage'],
  env: NodeJS.ProcessEnv,
): LineageSettings | undefined {
  if (!section || env.OPENLINEAGE_DISABLED?.toLowerCase() === 'true') return undefined;
  if (!section.url && !section.file) return undefined;
  registerSecret(section.apiKey);
  if (section.url) {
    const password = new URL(section.url).password;
    if (password) registerSecret(decodeURIComponent(password));
  }
  return {
    url: section.url,
    endpoint: section.endpoint ?? defaultLineageEndpoint,
    apiKey: section.apiKey,
    namespace: section.namespace ?? defaultLineageNamespace,
    file: section.file,
    timeoutMs: section.timeoutMs,
    parentId: env.OPENLINEAGE_PARENT_ID || undefined,
    rootParentId: env.OPENLINEAGE_ROOT_PARENT_ID || undefined,
  };
}
