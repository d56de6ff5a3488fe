import { commandReference } from './command-reference.js';
import { configReference } from './config-reference.js';
import { environmentReference } from './environment-reference.js';
import { errorReference } from './error-reference.js';
import { stateReference } from './state-reference.js';
import { streamReference } from './stream-reference.js';
import { summaryReference } from './summary-reference.js';

/** The generated pages, by path from the repository root: what `npm run docs` writes. */
export function referencePages(): Record<string, string> {
  return {
    'docs/reference/configuration.md': configReference(),
    'docs/reference/commands.md': commandReference(),
    'docs/reference/streams.md': streamReference(),
    'docs/reference/errors.md': errorReference(),
    'docs/reference/json-summary.md': summaryReference(),
    'docs/reference/environment.md': environmentReference(),
    'docs/reference/state.md': stateReference(),
  };
}
