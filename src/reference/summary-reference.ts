import { code, generatedBanner, mdTable } from './markdown.js';
import { docOf, parseSource, ts } from './source-docs.js';

const file = 'src/run/sync-summary.ts';

interface Field {
  readonly path: string;
  readonly type: string;
  readonly optional: boolean;
  readonly description: string;
}

/**
 * The fields of `sync --json`, read from the interfaces that type it (`SyncOutput` and what it
 * holds), so that the page is the type: a field added there appears here at the next `npm run docs`.
 */
class SummaryWalker {
  readonly fields: Field[] = [];
  private readonly interfaces = new Map<string, ts.InterfaceDeclaration>();
  private readonly aliases = new Map<string, ts.TypeAliasDeclaration>();
  constructor(private readonly source: ts.SourceFile) {
    for (const s of source.statements) {
      if (ts.isInterfaceDeclaration(s)) this.interfaces.set(s.name.text, s);
      if (ts.isTypeAliasDeclaration(s)) this.aliases.set(s.name.text, s);
    }
  }

  walkInterface(name: string, prefix: string): void {
    const decl = this.interfaces.get(name);
    if (!decl) throw new Error(`${file} declares no interface ${name}`);
    for (const h of decl.heritageClauses ?? [])
      for (const t of h.types) this.walkInterface(t.expression.getText(this.source), prefix);
    this.walkMembers(decl.members, prefix);
  }

  private walkMembers(members: ts.NodeArray<ts.TypeElement>, prefix: string): void {
    for (const m of members) {
      if (!ts.isPropertySignature(m) || !m.type) continue;
      const path = `${prefix}${m.name.getText(this.source)}`;
      const at = this.fields.length;
      this.fields.push({ path, type: '', optional: !!m.questionToken, description: docOf(m) });
      const type = this.walkType(m.type, path);
      this.fields[at] = { ...this.fields[at]!, type };
    }
  }

  /** The type's text, after the rows of the fields it holds. */
  private walkType(t: ts.TypeNode, path: string): string {
    if (ts.isTypeLiteralNode(t)) {
      this.walkMembers(t.members, `${path}.`);
      return 'object';
    }
    if (ts.isArrayTypeNode(t)) return `list of ${this.walkType(t.elementType, `${path}[]`)}`;
    if (ts.isUnionTypeNode(t)) {
      const object = t.types.find((u) => ts.isTypeLiteralNode(u) || ts.isTypeReferenceNode(u));
      const rest = t.types.filter((u) => u !== object).map((u) => u.getText(this.source));
      return object ? [this.walkType(object, path), ...rest].join(' or ') : rest.join(' | ');
    }
    if (ts.isTypeReferenceNode(t)) {
      const name = t.typeName.getText(this.source);
      if (this.interfaces.has(name)) {
        this.walkInterface(name, `${path}.`);
        return 'object';
      }
      const alias = this.aliases.get(name);
      if (alias) return alias.type.getText(this.source);
      // A type from elsewhere (an enum of the state ports): its name.
      return name;
    }
    return t.getText(this.source);
  }
}

/** docs/reference/json-summary.md: every field of `sync --json`, from `src/run/sync-summary.ts`. */
export function summaryReference(): string {
  const walker = new SummaryWalker(parseSource(file));
  walker.walkInterface('SyncOutput', '');
  return `${[
    '# The JSON summary of `sync --json`',
    '',
    generatedBanner(`the interfaces of \`${file}\``),
    '',
    'One JSON document on stdout (logs go to stderr). With an `accounts:` config the document is',
    '`{command, outcome, exitCode, exportsRequested, rowsLoaded, accounts: [...]}`, one entry per',
    'account, each the summary below or an error entry; how errors are reported, and what `plan`',
    'and `status` print, is in [Operating it](../operating.md#the-json-summary).',
    '',
    mdTable(
      ['field', 'type', 'always', 'meaning'],
      walker.fields.map((f) => [code(f.path), f.type, f.optional ? '' : 'yes', f.description]),
    ),
  ].join('\n')}\n`;
}
