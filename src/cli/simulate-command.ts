import { stringify } from 'yaml';
import { accountsConfig, startAccountSimulators } from '../../simulator/account-simulators.js';
import { type SimulatorOptions, startSimulator } from '../../simulator/simulator-server.js';
import { UsageError } from '../errors.js';
import type { Logger } from '../log/logger.js';
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
