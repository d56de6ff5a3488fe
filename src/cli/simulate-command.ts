import { stringify } from 'yaml';
import type { SimulatorOptions } from '../../simulator/simulator-server.js';
import { UsageError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { defineCommand } from './cli-command.js';
import { emit } from './output.js';

export interface SimulateArgs {
  port: number;
  downloadPort?: number;
  host: string;
  publicHost?: string;
  quota?: number;
  processingMs?: number;
  slotMinutes?: number;
  /** Serve this many accounts, each its own simulator on consecutive ports. */
  accounts?: number;
  json: boolean;
}

/** Serves the export API simulator (`--accounts N`: N accounts) until SIGINT or SIGTERM. */
export async function simulateCommand(args: SimulateArgs, log: Logger): Promise<number> {
  // Loaded here: the CLI reads this file for every command, the simulator is this one's alone.
  const [{ accountsConfig, startAccountSimulators }, { startSimulator }] = await Promise.all([
    import('../../simulator/account-simulators.js'),
    import('../../simulator/simulator-server.js'),
  ]);
  const options: SimulatorOptions = {
    port: args.port,
    host: args.host,
    ...(args.publicHost ? { publicHost: args.publicHost } : {}),
    ...(args.downloadPort !== undefined ? { downloadPort: args.downloadPort } : {}),
    faults: {
      ...(args.quota !== undefined ? { quota: args.quota } : {}),
      ...(args.processingMs !== undefined ? { processingMs: args.processingMs } : {}),
    },
    ...(args.slotMinutes !== undefined ? { data: { slotMs: args.slotMinutes * 60_000 } } : {}),
  };
  if (args.accounts !== undefined) {
    if (!Number.isInteger(args.accounts) || args.accounts < 1 || args.accounts > 100)
      throw new UsageError('--accounts must be a whole number from 1 to 100');
    const accounts = await startAccountSimulators(args.accounts, options);
    const section = accountsConfig(accounts);
    emit(
      {
        command: 'simulate',
        accounts: accounts.map(({ key, sim }) => ({
          key,
          apiBase: sim.apiBase,
          authUrl: sim.authUrl,
          downloadBase: sim.downloadBase,
          credentials: sim.credentials,
        })),
      },
      args.json,
      () =>
        [
          `${accounts.length} simulated accounts listening; this accounts: section reaches them (each has its own quota and data):`,
          stringify({ accounts: section }).trimEnd(),
          'faults, release and counters: POST /_sim/faults, POST /_sim/release, GET /_sim/stats on each apiBase; Ctrl-C stops',
        ].join('\n'),
    );
    await stopSignal();
    log.info('simulators stopping');
    await Promise.all(accounts.map((a) => a.sim.close()));
    return 0;
  }
  const sim = await startSimulator(options);
  const info = {
    command: 'simulate',
    apiBase: sim.apiBase,
    authUrl: sim.authUrl,
    downloadBase: sim.downloadBase,
    credentials: sim.credentials,
  };
  emit(info, args.json, () =>
    [
      `simulator listening: apiBase ${sim.apiBase}  authUrl ${sim.authUrl}  downloads ${sim.downloadBase}`,
      `credentials: clientId ${sim.credentials.clientId}  clientSecret ${sim.credentials.clientSecret}  accessKey ${sim.credentials.accessKey}  accessSecret ${sim.credentials.accessSecret}`,
      'faults: POST /_sim/faults (JSON), held export answers: POST /_sim/release, counters: GET /_sim/stats; Ctrl-C stops',
    ].join('\n'),
  );
  await stopSignal();
  log.info('simulator stopping');
  await sim.close();
  return 0;
}

function stopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

export const simulateCli = defineCommand({
  command: 'simulate',
  describe: 'serve the export API simulator',
  noAccount:
    'it serves a simulated API, not an account of the config (--accounts N serves N simulated accounts)',
  builder: (y) =>
    y
      .option('port', { type: 'number', default: 8080 })
      .option('download-port', {
        type: 'number',
        describe: 'port of the download origin (default: any free port)',
      })
      .option('host', { type: 'string', default: '127.0.0.1' })
      .option('public-host', {
        type: 'string',
        describe: 'host name to put in download URLs (e.g. the compose service name)',
      })
      .option('quota', { type: 'number', describe: 'the simulated account quota per 24h (default 3)' })
      .option('processing-ms', { type: 'number', describe: 'how long an export stays Pending' })
      .option('slot-minutes', {
        type: 'number',
        describe: 'one generated row per stream every N minutes (default 20)',
      })
      .option('accounts', {
        type: 'number',
        describe:
          'serve N accounts, each with its own credentials, quota and data, on consecutive ports from --port',
      }),
  run: (a, log) => simulateCommand(a, log),
});
