import { startSimulator } from '../../simulator/simulator-server.js';
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
  json: boolean;
}

/** Serves the export API simulator until SIGINT or SIGTERM. */
export async function simulateCommand(args: SimulateArgs, log: Logger): Promise<number> {
  const sim = await startSimulator({
    port: args.port,
    host: args.host,
    ...(args.publicHost ? { publicHost: args.publicHost } : {}),
    ...(args.downloadPort !== undefined ? { downloadPort: args.downloadPort } : {}),
    faults: {
      ...(args.quota !== undefined ? { quota: args.quota } : {}),
      ...(args.processingMs !== undefined ? { processingMs: args.processingMs } : {}),
    },
    ...(args.slotMinutes !== undefined ? { data: { slotMs: args.slotMinutes * 60_000 } } : {}),
  });
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
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info('simulator stopping');
  await sim.close();
  return 0;
}
