import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';

/** The repository's root: the nearest folder up from here with a package.json (from src/ or dist/src/). */
export function repositoryRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('no package.json above src/reference');
    dir = up;
  }
  return dir;
}

/** A TypeScript file of the repository, parsed (no type checking: the reference reads declarations). */
export function parseSource(path: string): ts.SourceFile {
  const text = readFileSync(join(repositoryRoot(), path), 'utf8');
  return ts.createSourceFile(path, text, ts.ScriptTarget.ES2023, true);
}

/** A declaration's JSDoc text, on one line ('' when it has none). */
export function docOf(node: ts.Node): string {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  return docs
    .map((d) => ts.getTextOfJSDocComment(d.comment) ?? '')
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export { ts };
