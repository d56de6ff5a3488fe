import { environmentVariables } from '../config/environment-variables.js';
import { code, generatedBanner, mdTable } from './markdown.js';

/** docs/reference/environment.md: every environment variable, from `src/config/environment-variables.ts`. */
export function environmentReference(): string {
  return `${[
    '# Environment variables',
    '',
    generatedBanner('`src/config/environment-variables.ts`'),
    '',
    mdTable(
      ['variable', 'read by', 'meaning'],
      environmentVariables.map((v) => [
        v.name
          .split(', ')
          .map((n) => code(n))
          .join(', '),
        v.testHook ? `${v.readBy} (**test hook**)` : v.readBy,
        v.testHook ? `${v.meaning}; never set it in production` : v.meaning,
      ]),
    ),
  ].join('\n')}\n`;
}
