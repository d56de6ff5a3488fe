import { z } from 'zod';
import { configSchema } from '../config/config-schema.js';
import { code, generatedBanner, mdTable } from './markdown.js';

/** The part of a JSON Schema the reference reads (zod's `toJSONSchema`, with the config's `meta`). */
interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  /** `meta` of the config schema: the default when it is not a constant (another setting, an env var). */
  defaultText?: string;
  /** `meta` of the config schema: `duration` or `date`, which the JSON types do not say. */
  docType?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
}

interface Row {
  readonly key: string;
  readonly type: string;
  readonly default: string;
  readonly description: string;
}

const placeholder: Record<string, string> = { streams: '<stream>', accounts: '<account>' };

function typeOf(s: JsonSchema): string {
  if (s.docType === 'duration') return 'duration (`15m`, `2h`, `1d`, or ms)';
  if (s.docType === 'date') return 'date (ISO 8601)';
  if (s.const !== undefined) return code(String(s.const));
  if (s.enum) return s.enum.map((v) => code(String(v))).join(' | ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'values'}`;
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object')
    return s.properties ? 'map' : `map of ${typeOf(s.additionalProperties)}`;
  const t = Array.isArray(s.type) ? s.type.join(' or ') : (s.type ?? 'any');
  const range =
    s.minimum !== undefined || s.maximum !== undefined || s.exclusiveMinimum !== undefined
      ? ` (${[
          s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : undefined,
          s.minimum !== undefined ? `>= ${s.minimum}` : undefined,
          s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? `<= ${s.maximum}` : undefined,
        ]
          .filter(Boolean)
          .join(', ')})`
      : '';
  return `${t}${range}`;
}

function defaultOf(s: JsonSchema, required: boolean): string {
  if (s.defaultText) return s.defaultText;
  if (s.default !== undefined && !(typeof s.default === 'object' && s.default !== null))
    return code(String(s.default));
  return required ? 'required' : '-';
}

/** The rows of one object's settings, depth first; a record of objects is one row per its values' settings. */
function rows(s: JsonSchema, prefix: string, out: Row[]): void {
  for (const [name, child] of Object.entries(s.properties ?? {})) {
    const key = prefix ? `${prefix}.${name}` : name;
    const required = s.required?.includes(name) ?? false;
    const entry = typeof child.additionalProperties === 'object' ? child.additionalProperties : undefined;
    const variants = child.oneOf ?? child.anyOf;
    if (variants?.every((v) => v.properties?.type?.const !== undefined)) {
      // A union told apart by `type` (the destinations): `type`, then each variant's settings.
      const types = variants.map((v) => String(v.properties!.type!.const));
      out.push({ key, type: 'object', default: 'required', description: child.description ?? '' });
      out.push({
        key: `${key}.type`,
        type: types.map((t) => code(t)).join(' | '),
        default: 'required',
        description: 'which destination; the settings below are those of that type',
      });
      for (const [i, v] of variants.entries()) {
        const own: Row[] = [];
        rows(
          {
            ...v,
            properties: Object.fromEntries(Object.entries(v.properties!).filter(([k]) => k !== 'type')),
          },
          key,
          own,
        );
        out.push(...own.map((r) => ({ ...r, description: `(${types[i]}) ${r.description}` })));
      }
      continue;
    }
    out.push({
      key,
      type: typeOf(child),
      default: defaultOf(child, required),
      description: child.description ?? '',
    });
    if (child.properties) rows(child, key, out);
    else if (entry?.properties && placeholder[name]) {
      const at = `${key}.${placeholder[name]}`;
      if (name === 'accounts') {
        // An entry of `accounts:` is `account:` again, with streams of its own: said once, not twice.
        out.push({
          key: at,
          type: 'map',
          default: '-',
          description: `every setting of ${code('account')}, and ${code('streams')} of its own`,
        });
        const streams = entry.properties.streams;
        if (streams?.additionalProperties && typeof streams.additionalProperties === 'object')
          out.push({
            key: `${at}.streams.<stream>`,
            type: 'map',
            default: 'the top-level `streams`',
            description: "this account's options of the stream, over the top-level ones",
          });
      } else rows(entry, at, out);
    }
  }
}

/** docs/reference/configuration.md: every setting of the config file, from its zod schema. */
export function configReference(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out: Row[] = [];
  rows(schema, '', out);
  return `${[
    '# Configuration reference',
    '',
    generatedBanner("`src/config/config-schema.ts` and the destinations' config schemas"),
    '',
    'Every setting of the YAML config file, with its type, its default and what it does. How to',
    'write the file (environment variables, secrets from files, many accounts) is in',
    '[Configuration](../configuration.md).',
    '',
    mdTable(
      ['setting', 'type', 'default', 'meaning'],
      out.map((r) => [code(r.key), r.type, r.default, r.description]),
    ),
  ].join('\n')}\n`;
}
