import { type RunningSimulator, type SimulatorOptions, startSimulator } from './simulator-server.js';

/** One simulated CXone account: its key and its own simulator (credentials, quota, data). */
export interface SimulatedAccount {
  readonly key: string;
  readonly sim: RunningSimulator;
}

/**
 * Several CXone accounts, each a simulator of its own (several tenants are several API
 * endpoints to the connector too): account `k` (from 1) has the key `sim<k>`, its own client id
 * and secrets, its own quota (the faults' `quota`, default 3) and its own seeded data (seed
 * 42 + k). With `port` set, account k listens on `port + k - 1` (downloads likewise); otherwise
 * on any free ports.
 */
export async function startAccountSimulators(
  count: number,
  base: SimulatorOptions = {},
): Promise<SimulatedAccount[]> {
  const accounts: SimulatedAccount[] = [];
  try {
    for (let k = 1; k <= count; k++) {
      const sim = await startSimulator({
        ...base,
        ...(base.port ? { port: base.port + k - 1 } : {}),
        ...(base.downloadPort ? { downloadPort: base.downloadPort + k - 1 } : {}),
        clientId: `sim-client-${k}`,
        clientSecret: `sim-client-secret-${k}`,
        accessKey: `SIMACCESSKEY${k}==`,
        accessSecret: `sim-access-secret-${k}`,
        data: { ...base.data, seed: 42 + k },
      });
      accounts.push({ key: `sim${k}`, sim });
    }
  } catch (err) {
    await Promise.all(accounts.map((a) => a.sim.close()));
    throw err;
  }
  return accounts;
}

/** The `accounts:` section of a config for these simulated accounts (secrets written out: test data). */
export function accountsConfig(
  accounts: readonly SimulatedAccount[],
  extra: Record<string, unknown> = {},
): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    accounts.map(({ key, sim }) => [
      key,
      {
        authUrl: sim.authUrl,
        apiBase: sim.apiBase,
        ...sim.credentials,
        ...extra,
      },
    ]),
  );
}
