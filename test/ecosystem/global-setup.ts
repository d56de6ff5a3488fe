import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The virtual environment with the pinned Python tools (test/ecosystem/requirements.txt). */
    venv: string;
  }
}

/** The packages whose versions the suite prints, so that a CI log says what was run. */
const shown = [
  'apache-airflow',
  'apache-airflow-task-sdk',
  'apache-airflow-providers-standard',
  'apache-airflow-providers-openlineage',
  'apache-airflow-providers-cncf-kubernetes',
  'dbt-core',
  'dbt-postgres',
  'dbt-bigquery',
  'openlineage-python',
];

/** Creates (or reuses) the venv once for the whole suite and prints the tools' versions. */
export default function setup(project: TestProject): void {
  if (!process.env.TEST_DATABASE_URL && !process.env.DATABASE_URL) {
    throw new Error(
      'npm run test:ecosystem needs a PostgreSQL server that dbt and Airflow can reach: set DATABASE_URL (for example postgres://postgres@127.0.0.1:5432/test); the tests create and drop their own databases on it',
    );
  }
  const venv = execFileSync('bash', [join(import.meta.dirname, 'python-env.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const versions = execFileSync(
    join(venv, 'bin', 'python'),
    [
      '-c',
      'import sys, importlib.metadata as m; print("python " + sys.version.split()[0]); [print(n, m.version(n)) for n in sys.argv[1:]]',
      ...shown,
    ],
    { encoding: 'utf8' },
  );
  process.stderr.write(`ecosystem: ${venv}\n${versions.replace(/^/gm, '  ')}`);
  project.provide('venv', venv);
}
