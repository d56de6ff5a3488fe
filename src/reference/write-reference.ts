#!/usr/bin/env node
/**
 * `npm run docs`: writes the reference pages of docs/reference/ from the code that defines them.
 * `--check` writes nothing and exits 1 when a committed page differs (the docs test does the same).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { referencePages } from './reference-pages.js';
import { repositoryRoot } from './source-docs.js';

const check = process.argv.includes('--check');
const root = repositoryRoot();
const stale: string[] = [];
for (const [path, text] of Object.entries(referencePages())) {
  const abs = join(root, path);
  const current = existsSync(abs) ? readFileSync(abs, 'utf8') : undefined;
  if (current === text) continue;
  stale.push(path);
  if (!check) {
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, text);
  }
}
if (check && stale.length) {
  process.stderr.write(`out of date (run npm run docs): ${stale.join(', ')}\n`);
  process.exitCode = 1;
} else process.stdout.write(stale.length ? `wrote ${stale.join(', ')}\n` : 'docs/reference is current\n');
