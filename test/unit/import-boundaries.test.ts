import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Hand-written source files allowed over the size limit: none. */
const knownOversized: readonly string[] = [];

const maxLines = 400;
const root = resolve(import.meta.dirname, '../..');

function tsFiles(dir: string): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort();
}

interface Import {
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
  /** The imported file from the repository root (`.js` read as `.ts`), or the bare specifier. */
  readonly target: string;
  readonly relative: boolean;
}

const patterns = [
  // import x from '...', import type { a } from '...', export { a } from '...', export * from '...'
  /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?)\s+from\s*['"]([^'"]+)['"]/g,
  // import '...'
  /\bimport\s*['"]([^'"]+)['"]/g,
  // import('...')
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];

/** Every static and dynamic import and export-from specifier of a file, with its line. */
function importsOf(file: string): Import[] {
  // Comments out (kept as blanks, so that offsets and lines stay right).
  const text = readFileSync(join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (c) =>
    c.replace(/[^\n]/g, ' '),
  );
  const found: Import[] = [];
  for (const pattern of patterns) {
    for (const m of text.matchAll(pattern)) {
      const specifier = m[1] as string;
      const at = (m.index ?? 0) + m[0].lastIndexOf(specifier);
      const line = text.slice(0, at).split('\n').length;
      const isRelative = specifier.startsWith('.');
      const target = isRelative
        ? posix.normalize(posix.join(dirname(file), specifier)).replace(/\.js$/, '.ts')
        : specifier;
      found.push({ file, line, specifier, target, relative: isRelative });
    }
  }
  return found;
}

const isBuiltin = (s: string) => s.startsWith('node:') || builtinModules.includes(s.split('/')[0] as string);
const under = (path: string, ...dirs: string[]) => dirs.some((d) => path === d || path.startsWith(`${d}/`));

/**
 * What each part of the house may import (docs/architecture.md), by path prefix; the longest
 * matching prefix decides. Node built-ins and npm packages are allowed everywhere.
 */
/** Every part of `src` below the CLI and the composition root, and the stream schemas. */
const belowCli = [
  'src/model',
  'src/log',
  'src/errors.ts',
  'src/retry',
  'src/parse',
  'src/ports',
  'src/ledger',
  'src/plan',
  'src/load',
  'src/export',
  'src/run',
  'src/state',
  'src/config',
  'schemas',
];

const allowed: Record<string, readonly string[]> = {
  'src/model': ['src/model'],
  'src/log': ['src/log'],
  'src/errors.ts': ['src/log'],
  'src/retry': ['src/retry'],
  'src/parse': ['src/parse', 'src/model', 'src/errors.ts'],
  schemas: ['schemas', 'src/model'],
  migrations: ['migrations'],
  // The interfaces the engine owns (its source, destinations, state, run settings): types only.
  'src/ports': ['src/ports', 'src/model', 'src/parse', 'src/errors.ts'],
  // An export's life: every status change (transitions), pure.
  'src/ledger': ['src/ledger', 'src/ports', 'src/model', 'src/errors.ts'],
  // The pipeline, by phase: each phase may import the ones before it, the ledger and the ports.
  'src/plan': ['src/plan', 'src/ports', 'src/model', 'src/errors.ts', 'src/log'],
  'src/load': ['src/load', 'src/ledger', 'src/ports', 'src/model', 'src/parse', 'src/errors.ts', 'src/log'],
  'src/export': [
    'src/export',
    'src/ledger',
    'src/load',
    'src/plan',
    'src/ports',
    'src/model',
    'src/retry',
    'src/errors.ts',
    'src/log',
  ],
  'src/run': [
    'src/run',
    'src/ledger',
    'src/export',
    'src/load',
    'src/plan',
    'src/ports',
    'src/model',
    'src/retry',
    'src/errors.ts',
    'src/log',
  ],
  // The PostgreSQL implementation of the state ports.
  'src/state': ['src/state', 'src/ports', 'src/model', 'src/errors.ts', 'src/log', 'migrations'],
  'src/config': [
    'src/config',
    'src/ports',
    'src/model',
    'src/parse',
    'src/errors.ts',
    'src/log',
    'src/retry',
    'schemas',
  ],
  connectors: [
    'connectors',
    // A destination's config section and its validated type.
    'src/config/destinations',
    'src/ports',
    'src/model',
    'src/parse',
    'src/state',
    'src/retry',
    'src/errors.ts',
    'src/log',
  ],
  simulator: ['simulator', 'src', 'schemas'],
  // The composition root: the only place that creates concrete sources, destinations and stores.
  'src/deployment': ['src/deployment', ...belowCli, 'connectors', 'migrations'],
  'src/cli': ['src', 'connectors', 'schemas', 'migrations', 'simulator'],
  // The reference pages of docs/reference (npm run docs): read the code that defines them, CLI included.
  'src/reference': ['src', 'connectors', 'schemas', 'migrations'],
  // The library API: what an embedding program may import (the composition included).
  'src/index.ts': ['src/deployment', ...belowCli],
};

/** The engine: the pipeline's phases, the ledger and the ports. */
const engine = ['src/ports', 'src/ledger', 'src/plan', 'src/load', 'src/export', 'src/run'];

/** npm packages the engine may not import: it is written against its ports, not a database. */
const engineForbiddenPackages = ['kysely', 'pg', '@electric-sql/pglite', '@google-cloud/bigquery'];

function layerOf(path: string): string | undefined {
  return Object.keys(allowed)
    .filter((prefix) => under(path, prefix))
    .sort((a, b) => b.length - a.length)[0];
}

/** Why a file may not import this, or undefined when the import is allowed. */
function violation(i: Import): string | undefined {
  const layer = layerOf(i.file);
  if (layer === undefined) return `${i.file} is in no layer of docs/architecture.md`;
  if (!i.relative) {
    // Node built-ins and npm packages, but no database driver in the engine.
    if (under(i.file, ...engine) && engineForbiddenPackages.includes(i.specifier))
      return `the engine (${engine.join(', ')}) imports no database package; it uses its ports`;
    return undefined;
  }
  if (allowed[layer]!.some((prefix) => under(i.target, prefix))) return undefined;
  return `${layer} may import only ${allowed[layer]!.join(', ')}`;
}

describe('import boundaries', () => {
  const files = ['src', 'schemas', 'connectors', 'migrations', 'simulator'].flatMap(tsFiles);
  const imports = files.flatMap(importsOf);

  it('finds the imports of every source file', () => {
    expect(files).toContain('src/load/window-loader.ts');
    expect(imports.filter((i) => i.file === 'src/load/window-loader.ts').length).toBeGreaterThan(5);
    expect(isBuiltin('node:fs') && isBuiltin('fs') && !isBuiltin('kysely')).toBe(true);
  });

  it('keeps the layers: no file imports across a boundary the house rules draw', () => {
    const found = imports
      .map((i) => ({ i, reason: violation(i) }))
      .filter((v): v is { i: Import; reason: string } => v.reason !== undefined)
      .map(({ i, reason }) => `${i.file}:${i.line} imports '${i.specifier}': ${reason}`);
    expect(found).toEqual([]);
  });

  it('flags what each rule forbids', () => {
    const at = (file: string, specifier: string): Import => ({
      file,
      line: 1,
      specifier,
      target: specifier.startsWith('.')
        ? posix.normalize(posix.join(dirname(file), specifier)).replace(/\.js$/, '.ts')
        : specifier,
      relative: specifier.startsWith('.'),
    });
    expect(violation(at('src/plan/planner.ts', '../../connectors/cxone/token-provider.js'))).toBeDefined();
    expect(violation(at('src/plan/planner.ts', '../../simulator/simulator-server.js'))).toBeDefined();
    expect(violation(at('src/plan/planner.ts', '../export/export-request.js'))).toBeDefined();
    expect(violation(at('src/export/export-lifecycle.ts', '../state/state-store.js'))).toBeDefined();
    expect(violation(at('src/export/export-lifecycle.ts', '../config/load-config.js'))).toBeDefined();
    expect(violation(at('src/export/export-lifecycle.ts', '../run/sync-runner.js'))).toBeDefined();
    expect(violation(at('src/ports/destination.ts', '../state/sql-pool.js'))).toBeDefined();
    expect(violation(at('src/ports/destination.ts', 'kysely'))).toBeDefined();
    expect(violation(at('src/run/sync-runner.ts', 'pg'))).toBeDefined();
    expect(violation(at('src/export/export-load.ts', '../state/state-tables.js'))).toBeDefined();
    expect(violation(at('src/ledger/export-transitions.ts', '../export/export-load.js'))).toBeDefined();
    expect(violation(at('src/load/window-loader.ts', '../export/export-load.js'))).toBeDefined();
    expect(violation(at('src/state/state-store.ts', 'kysely'))).toBeUndefined();
    expect(violation(at('src/index.ts', './cli/main.js'))).toBeDefined();
    expect(violation(at('src/deployment/deployment.ts', '../cli/output.js'))).toBeDefined();
    expect(violation(at('schemas/copilot-kb.ts', '../src/plan/planner.js'))).toBeDefined();
    expect(violation(at('src/parse/row-typer.ts', '../state/state-store.js'))).toBeDefined();
    expect(violation(at('src/parse/row-typer.ts', '../cli/main.js'))).toBeDefined();
    expect(violation(at('src/state/state-store.ts', '../../connectors/postgres/x.js'))).toBeDefined();
    expect(violation(at('src/model/window.ts', '../errors.js'))).toBeDefined();
    expect(violation(at('src/state/state-store.ts', '../plan/planner.js'))).toBeDefined();
    expect(violation(at('src/config/load-config.ts', '../plan/planner.js'))).toBeDefined();
    expect(violation(at('src/config/config-schema.ts', '../../connectors/destinations.js'))).toBeDefined();
    expect(violation(at('connectors/postgres/index.ts', '../../src/config/load-config.js'))).toBeDefined();
    expect(
      violation(at('connectors/postgres/index.ts', '../../src/config/destinations/x.js')),
    ).toBeUndefined();
    expect(violation(at('src/errors.ts', './plan/planner.js'))).toBeDefined();
    expect(violation(at('src/retry/retry.ts', '../errors.js'))).toBeDefined();
    expect(violation(at('src/model/window.ts', './stream-schema.js'))).toBeUndefined();
    expect(violation(at('src/model/window.ts', 'node:crypto'))).toBeUndefined();
    expect(violation(at('src/model/window.ts', 'zod'))).toBeUndefined();
    expect(violation(at('src/plan/planner.ts', '../model/window.js'))).toBeUndefined();
    expect(violation(at('src/run/sync-runner.ts', '../export/export-lifecycle.js'))).toBeUndefined();
    expect(violation(at('src/state/state-store.ts', '../ports/state-ports.js'))).toBeUndefined();
    expect(violation(at('src/cli/main.ts', '../../connectors/cxone/token-provider.js'))).toBeUndefined();
  });
});

/** The import cycles among these files (Tarjan's strongly connected components), each sorted. */
function importCycles(files: readonly string[], imports: readonly Import[]): string[][] {
  const edges = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const i of imports) if (i.relative && edges.has(i.target)) edges.get(i.file)?.push(i.target);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    if (component.length > 1) cycles.push(component.sort());
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return cycles;
}

describe('import cycles', () => {
  const files = ['src', 'schemas', 'connectors', 'migrations'].flatMap(tsFiles);
  const imports = files.flatMap(importsOf);

  it('finds a cycle where there is one', () => {
    const i = (file: string, target: string): Import => ({
      file,
      line: 1,
      specifier: target,
      target,
      relative: true,
    });
    expect(importCycles(['a', 'b', 'c'], [i('a', 'b'), i('b', 'c'), i('c', 'a')])).toEqual([['a', 'b', 'c']]);
    expect(importCycles(['a', 'b'], [i('a', 'b')])).toEqual([]);
  });

  it('has no import loop between files (type imports included), nor between parts of the house', () => {
    expect(importCycles(files, imports)).toEqual([]);
    // The parts' allowed arrows draw no loop either: the layers are a partial order.
    const parts = Object.keys(allowed);
    const partOf = (path: string) => layerOf(path) ?? path;
    const partImports = parts.flatMap((p) =>
      allowed[p]!.filter((t) => partOf(t) !== p).map((t) => ({
        file: p,
        line: 1,
        specifier: t,
        target: partOf(t),
        relative: true,
      })),
    );
    expect(importCycles(parts, partImports).filter((c) => !c.includes('simulator'))).toEqual([]);
  });
});

describe('file size', () => {
  const files = ['src', 'connectors', 'simulator', 'bench'].flatMap(tsFiles);
  const lines = (f: string) => readFileSync(join(root, f), 'utf8').split('\n').length - 1;
  const known = (f: string) => knownOversized.some((k) => f === k || f.endsWith(`/${k}`));

  it(`keeps every hand-written source file at ${maxLines} lines or fewer`, () => {
    expect(files.length).toBeGreaterThan(20);
    const over = files.filter((f) => lines(f) > maxLines && !known(f)).map((f) => `${f}: ${lines(f)} lines`);
    expect(over).toEqual([]);
  });

  it('lists as oversized only files that still are', () => {
    expect(
      knownOversized.filter(
        (k) => !files.some((f) => known(f) && (f === k || f.endsWith(`/${k}`)) && lines(f) > maxLines),
      ),
    ).toEqual([]);
  });
});
