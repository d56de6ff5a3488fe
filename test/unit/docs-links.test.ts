import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

/** README.md and every page under docs/. */
function pages(): string[] {
  const docs = readdirSync(join(root, 'docs'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.md'))
    .map((e) => relative(root, join(e.parentPath, e.name)));
  return ['README.md', ...docs.sort()];
}

/** The text outside fenced code blocks and inline code, where links are links. */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes; repeats get -1, -2. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of text.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const base = m[1]!
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

interface Link {
  readonly from: string;
  readonly target: string;
}

/** The relative links of a page (not http(s), not mailto). */
function links(page: string): Link[] {
  const text = prose(readFileSync(join(root, page), 'utf8'));
  return [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1]!)
    .filter((t) => !/^[a-z]+:/i.test(t))
    .map((target) => ({ from: page, target }));
}

/** Why a link is broken, or undefined. */
function broken(link: Link): string | undefined {
  const [path, anchor] = link.target.split('#') as [string, string | undefined];
  const file = path ? join(root, dirname(link.from), path) : join(root, link.from);
  if (!existsSync(file)) return `${link.from}: ${link.target}: no such file`;
  if (anchor === undefined || statSync(file).isDirectory()) return undefined;
  if (!file.endsWith('.md')) return undefined;
  return anchors(readFileSync(file, 'utf8')).has(anchor)
    ? undefined
    : `${link.from}: ${link.target}: no heading #${anchor} in ${relative(root, file)}`;
}

describe('documentation links', () => {
  it('finds the pages and their links', () => {
    expect(pages().length).toBeGreaterThan(10);
    expect(links('README.md').length).toBeGreaterThan(10);
  });

  it('has no link to a missing page or heading', () => {
    expect(pages().flatMap(links).map(broken).filter(Boolean)).toEqual([]);
  });

  it('reaches every page of docs/ from the README', () => {
    const reached = new Set<string>(['README.md']);
    const queue = ['README.md'];
    while (queue.length) {
      const page = queue.shift()!;
      for (const l of links(page)) {
        const path = l.target.split('#')[0];
        if (!path?.endsWith('.md')) continue;
        const to = relative(root, join(root, dirname(page), path));
        if (!reached.has(to) && existsSync(join(root, to))) {
          reached.add(to);
          queue.push(to);
        }
      }
    }
    expect(pages().filter((p) => !reached.has(p))).toEqual([]);
  });

  it('knows GitHub anchors: punctuation dropped, repeats numbered', () => {
    expect([
      ...anchors('# How a sync behaves\n## The 4-month rule\n## `sync --json`\n## Notes\n## Notes'),
    ]).toEqual(['how-a-sync-behaves', 'the-4-month-rule', 'sync---json', 'notes', 'notes-1']);
  });
});
