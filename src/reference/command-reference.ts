import type { Argv } from 'yargs';
import { type CommonArgs, commonOptions } from '../cli/cli-command.js';
import { commands } from '../cli/commands.js';
import { code, generatedBanner, mdTable } from './markdown.js';

/** What a command's builder declares: yargs' option settings the reference shows. */
interface OptionSpec {
  type?: string;
  describe?: string;
  default?: unknown;
  choices?: readonly unknown[];
  array?: boolean;
  demandOption?: boolean;
}

interface Declared {
  readonly name: string;
  readonly positional: boolean;
  readonly spec: OptionSpec;
}

/**
 * Stands in for yargs while a builder runs, recording the options and positionals it declares:
 * the same builders `main.ts` registers, so the reference is what `--help` shows. A builder that
 * calls anything else fails here, and the docs test with it.
 */
class Recorder {
  readonly declared: Declared[] = [];
  readonly hidden = new Set<string>();
  option(name: string, spec: OptionSpec): this {
    this.declared.push({ name, positional: false, spec });
    return this;
  }
  positional(name: string, spec: OptionSpec): this {
    this.declared.push({ name, positional: true, spec });
    return this;
  }
  hide(name: string): this {
    this.hidden.add(name);
    return this;
  }
}

function declared(build: (y: Argv<CommonArgs>) => unknown): Declared[] {
  const r = new Recorder();
  build(r as unknown as Argv<CommonArgs>);
  return r.declared;
}

function typeText(spec: OptionSpec): string {
  const base = spec.choices ? spec.choices.map((c) => code(String(c))).join(' | ') : (spec.type ?? '');
  return spec.array ? `${base} (repeatable)` : base;
}

function defaultText(spec: OptionSpec): string {
  if (spec.demandOption) return 'required';
  return spec.default === undefined ? '-' : code(String(spec.default));
}

function optionRows(options: readonly Declared[]): string[][] {
  return options.map((o) => [
    o.positional ? code(o.name.toUpperCase()) : code(`--${o.name}`),
    typeText(o.spec),
    defaultText(o.spec),
    o.spec.describe ?? '',
  ]);
}

const header = ['option', 'type', 'default', 'meaning'];

/** docs/reference/commands.md: every command and its options, from the builders in `src/cli/`. */
export function commandReference(): string {
  const common = declared((y) => commonOptions(y));
  const sections = commands.map((c) => {
    const own = declared((y) => c.builder(y));
    const usage = `cxone-od-sync ${c.command.replace(/<(\w+)>/g, (_, n: string) => n.toUpperCase())} [options]`;
    return [
      `## ${c.command.split(' ')[0]}`,
      '',
      `${c.describe[0]!.toUpperCase()}${c.describe.slice(1)}.`,
      '',
      '```',
      usage,
      '```',
      '',
      ...(c.noAccount ? [`Takes no ${code('--account')}: ${c.noAccount}.`, ''] : []),
      own.length ? mdTable(header, optionRows(own)) : 'No options of its own.',
    ].join('\n');
  });
  return `${[
    '# Command reference',
    '',
    generatedBanner('the commands in `src/cli/` (their yargs builders)'),
    '',
    'What each command does, how it exits and what it prints are in [Operating it](../operating.md).',
    '',
    '## Options of every command',
    '',
    mdTable(header, [
      ...optionRows(common),
      [code('--help'), 'boolean', '-', 'show the help of the command'],
      [code('--version'), 'boolean', '-', 'print the version (`cxone-od-sync --version`)'],
    ]),
    '',
    ...sections.flatMap((s) => [s, '']),
  ]
    .join('\n')
    .trimEnd()}\n`;
}
