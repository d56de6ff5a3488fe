import * as errors from '../errors.js';
import { ApiError, exitCodeMeanings, type SyncError } from '../errors.js';
import { code, generatedBanner, mdTable } from './markdown.js';
import { docOf, parseSource, ts } from './source-docs.js';

type ErrorClass = new (...args: never[]) => SyncError;

/** An instance to read `exitCode` and `retryable` from: the constructors take a message first, or a time then a message. */
function instance(cls: ErrorClass, ...rest: unknown[]): SyncError {
  const make = cls as unknown as new (...args: unknown[]) => SyncError;
  try {
    return new make('m', ...rest);
  } catch {
    return new make(null, 'm');
  }
}

/** Whether a retry can help, as the class decides it: an API error by its HTTP status. */
function retryableText(cls: ErrorClass): string {
  if (cls.prototype instanceof ApiError || (cls as unknown) === ApiError) {
    const statuses: [number | null, string][] = [
      [null, 'no answer'],
      [429, '429'],
      [503, '5xx'],
      [400, 'other 4xx'],
    ];
    const yes = statuses.filter(([s]) => instance(cls, s).retryable).map(([, label]) => label);
    if (yes.length === 0) return 'no';
    if (yes.length === statuses.length) return 'yes';
    return `for ${yes.join(', ')}`;
  }
  return instance(cls).retryable ? 'yes' : 'no';
}

/** docs/reference/errors.md: the exit codes and every error class, from `src/errors.ts`. */
export function errorReference(): string {
  const source = parseSource('src/errors.ts');
  const classes = source.statements.filter(
    (s): s is ts.ClassDeclaration =>
      ts.isClassDeclaration(s) &&
      !!s.name &&
      !s.modifiers?.some((m) => m.kind === ts.SyntaxKind.AbstractKeyword),
  );
  const rows = classes.map((c) => {
    const name = c.name!.text;
    const cls = (errors as unknown as Record<string, ErrorClass>)[name]!;
    const parent = c.heritageClauses?.[0]?.types[0]?.expression.getText(source) ?? '';
    return [
      code(name),
      parent === 'SyncError' ? '' : code(parent),
      String(instance(cls).exitCode),
      retryableText(cls),
      docOf(c),
    ];
  });
  return `${[
    '# Exit codes and errors',
    '',
    generatedBanner('`src/errors.ts`'),
    '',
    '## Exit codes',
    '',
    mdTable(
      ['code', 'means', 'an orchestrator'],
      exitCodeMeanings.map((e) => [code(e.code), e.means, e.orchestrator]),
    ),
    '',
    '## Error classes',
    '',
    'Every error the connector raises is one of these. The JSON output names it as `error.type`,',
    'with `retryable` as the table says; the exit code follows from the class.',
    '',
    mdTable(['class', 'a kind of', 'exit code', 'retryable', 'meaning'], rows),
  ].join('\n')}\n`;
}
