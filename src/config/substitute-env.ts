import { readFileSync } from 'node:fs';
import { registerSecret } from '../log/redact.js';

/** A `${VAR}` the environment (or `VAR_FILE`) filled: the value, and the reference as written. */
export interface Substitution {
  readonly value: string;
  readonly ref: string;
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed YAML tree. When `VAR` is
 * unset (or empty), `VAR_FILE` names a file whose content is the value (the Docker and Kubernetes
 * secrets convention), trailing line ends trimmed; then the default applies. A value read from a
 * file is registered for redaction; a file that cannot be read is a problem naming the setting,
 * the variable and the path, never the content. Each value the environment or a file gave is
 * added to `substitutions` (a default is not: it is written in the file), so that the config's
 * problems can show the reference instead of the value ({@link concealSubstitutions}).
 */
export function substituteEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  path: string[] = [],
  problems: string[] = [],
  substitutions: Substitution[] = [],
): unknown {
  if (typeof value === 'string') {
    const at = path.join('.') || '(root)';
    return value.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
      (ref: string, name: string, def?: string) => {
        const v = env[name];
        if (v !== undefined && v !== '') {
          substitutions.push({ value: v, ref });
          return v;
        }
        const file = env[`${name}_FILE`];
        if (file) {
          const content = readSecretFile(file, name, at, problems);
          if (content) substitutions.push({ value: content, ref });
          return content;
        }
        if (def !== undefined) return def;
        problems.push(`${at}: environment variable ${name} is not set (nor ${name}_FILE)`);
        return '';
      },
    );
  }
  const deeper = (v: unknown, k: string) => substituteEnv(v, env, [...path, k], problems, substitutions);
  if (Array.isArray(value)) return value.map((v, i) => deeper(v, String(i)));
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deeper(v, k)]));
  }
  return value;
}

/** The content of `${name}_FILE`, trailing line ends trimmed and registered as a secret. */
function readSecretFile(file: string, name: string, at: string, problems: string[]): string {
  let content: string;
  try {
    content = readFileSync(file, 'utf8').replace(/[\r\n]+$/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    problems.push(`${at}: ${name} is not set and ${name}_FILE names ${file}, which cannot be read (${code})`);
    return '';
  }
  if (content === '') {
    problems.push(`${at}: ${name} is not set and ${name}_FILE names ${file}, which is empty`);
    return '';
  }
  registerSecret(content);
  return content;
}

/**
 * `text` with every value the environment gave shown as its reference (`${CLIENT_SECRET}`): a
 * config problem never quotes what a variable holds, which may be a secret put in the wrong
 * setting. Values under 4 characters are left (as `redact` leaves them): replacing them would
 * garble the message, and they are no secret worth the name.
 */
export function concealSubstitutions(text: string, substitutions: readonly Substitution[]): string {
  let out = text;
  const longestFirst = [...substitutions].sort((a, b) => b.value.length - a.value.length);
  for (const { value, ref } of longestFirst) {
    if (value.length >= 4 && out.includes(value)) out = out.split(value).join(ref);
  }
  return out;
}

/** The secret settings of an account, as the schema names them. */
const accountSecrets = ['clientSecret', 'accessSecret'] as const;

/**
 * Registers for redaction every secret a config holds, read from the tree as substituted and
 * before it is validated, so that no problem found in it (a secret in the wrong setting, say)
 * can quote one: each account's `clientSecret` and `accessSecret`, `lineage.apiKey`, and the
 * password of `state.url` and `destination.url`. The tree is read defensively (it is not valid yet).
 */
export function registerConfigSecrets(tree: unknown): void {
  const obj = (v: unknown): Record<string, unknown> =>
    v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const cfg = obj(tree);
  const accounts = [cfg.account, ...Object.values(obj(cfg.accounts))];
  for (const a of accounts) for (const k of accountSecrets) registerSecret(str(obj(a)[k]));
  registerSecret(str(obj(cfg.lineage).apiKey));
  registerPasswordInUrl(str(obj(cfg.state).url));
  registerPasswordInUrl(str(obj(cfg.destination).url));
}

/**
 * Registers the password of a URL (`postgres://user:password@host/db`) for redaction, also in
 * the form without a host that node-postgres reads (`postgres://user:password@/db?host=/socket`).
 */
export function registerPasswordInUrl(url: string | undefined): void {
  if (!url) return;
  for (const candidate of [url, url.replace('@/', '@host/')]) {
    try {
      const u = new URL(candidate);
      if (u.password) registerSecret(decodeURIComponent(u.password));
      return;
    } catch {
      // not a URL (a socket path, say): nothing to register, or try it with a host
    }
  }
}
