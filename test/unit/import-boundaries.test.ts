import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Imports that may cross a layer boundary: none. */
const knownViolations: readonly string[] = [];

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
const allowed: Record<string, readonly string[]> = {
  'src/model': ['src/model'],
  'src/log': ['src/log'],
  'src/errors.ts': ['src/log'],
  'src/retry': ['src/retry'],
  'src/parse': ['src/parse', 'src/model', 'src/errors.ts'],
  schemas: ['schemas', 'src/model'],
  migrations: ['migrations'],
  'src/state': ['src/state', 'src/model', 'src/errors.ts', 'src/log', 'migrations'],
  'src/config': [
    'src/config',
    'src/model',
    'src/parse',
    'src/errors.ts',
    'src/log',
    'src/retry',
    'schemas',
    'connectors/destinations.ts',
  ],
  'src/engine': [
    'src/engine',
    'src/model',
    'src/parse',
    'src/state',
    'src/retry',
    'src/errors.ts',
    'src/log',
    'src/config',
  ],
  connectors: [
    'connectors',
    'src/engine',
    'src/model',
    'src/parse',
    'src/state',
    'src/retry',
    'src/errors.ts',
    'src/log',
  ],
  simulator: ['simulator', 'src', 'schemas'],
  'src/cli': ['src', 'connectors', 'schemas', 'migrations', 'simulator'],
  'src/index.ts': ['src', 'schemas'],
};

function layerOf(path: string): string | undefined {
  return Object.keys(allowed)
    .filter((prefix) => under(path, prefix))
    .sort((a, b) => b.length - a.length)[0];
}

/** Why a file may not import this, or undefined when the import is allowed. */
function violation(i: Import): string | undefined {
  const layer = layerOf(i.file);
  if (layer === undefined) return `${i.file} is in no layer of docs/architecture.md`;
  if (!i.relative) return undefined; // node built-ins and npm packages
  if (allowed[layer]!.some((prefix) => under(i.target, prefix))) return undefined;
  return `${layer} may import only ${allowed[layer]!.join(', ')}`;
}

describe('import boundaries', () => {
  const files = ['src', 'schemas', 'connectors', 'migrations', 'simulator'].flatMap(tsFiles);
  const imports = files.flatMap(importsOf);

  it('finds the imports of every source file', () => {
    expect(files).toContain('src/engine/window-loader.ts');
    expect(imports.filter((i) => i.file === 'src/engine/window-loader.ts').length).toBeGreaterThan(5);
    expect(isBuiltin('node:fs') && isBuiltin('fs') && !isBuiltin('kysely')).toBe(true);
  });

  it('keeps the layers: no file imports across a boundary the house rules draw', () => {
    const found = imports
      .map((i) => ({ i, reason: violation(i) }))
      .filter((v): v is { i: Import; reason: string } => v.reason !== undefined)
      .filter(({ i }) => !knownViolations.includes(`${i.file} -> ${i.target}`))
      .map(({ i, reason }) => `${i.file}:${i.line} imports '${i.specifier}': ${reason}`);
    expect(found).toEqual([]);
  });

  it('lists as known only violations that still exist (empty the list as they are removed)', () => {
    const present = new Set(
      imports.filter((i) => violation(i) !== undefined).map((i) => `${i.file} -> ${i.target}`),
    );
    expect(knownViolations.filter((v) => !present.has(v))).toEqual([]);
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
    expect(violation(at('src/engine/planner.ts', '../../connectors/cxone/token-provider.js'))).toBeDefined();
    expect(violation(at('src/engine/planner.ts', '../../simulator/simulator-server.js'))).toBeDefined();
    expect(violation(at('schemas/copilot-kb.ts', '../src/engine/planner.js'))).toBeDefined();
    expect(violation(at('src/parse/row-typer.ts', '../state/state-store.js'))).toBeDefined();
    expect(violation(at('src/parse/row-typer.ts', '../cli/main.js'))).toBeDefined();
    expect(violation(at('src/state/state-store.ts', '../../connectors/postgres/x.js'))).toBeDefined();
    expect(violation(at('src/model/window.ts', '../errors.js'))).toBeDefined();
    expect(violation(at('src/state/state-store.ts', '../engine/planner.js'))).toBeDefined();
    expect(violation(at('src/config/load-config.ts', '../engine/planner.js'))).toBeDefined();
    expect(violation(at('src/errors.ts', './engine/planner.js'))).toBeDefined();
    expect(violation(at('src/retry/retry.ts', '../errors.js'))).toBeDefined();
    expect(violation(at('src/model/window.ts', './stream-schema.js'))).toBeUndefined();
    expect(violation(at('src/model/window.ts', 'node:crypto'))).toBeUndefined();
    expect(violation(at('src/model/window.ts', 'zod'))).toBeUndefined();
    expect(violation(at('src/engine/planner.ts', '../model/window.js'))).toBeUndefined();
    expect(violation(at('src/cli/main.ts', '../../connectors/cxone/token-provider.js'))).toBeUndefined();
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
