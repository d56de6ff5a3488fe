import type { RunningSimulator } from './simulator-server.js';

/**
 * Someone else on the simulated account (a person exporting from the dashboard, another tool):
 * requests one export over HTTP with its own token, as the vendor would see it. Its requests
 * carry `x-sim-client: outsider`, so the simulator's stats tell them from the connector's.
 */
export class Outsider {
  #token: string | undefined;

  constructor(
    private readonly sim: RunningSimulator,
    /** The simulated time (ms), for the day the request asks for. */
    private readonly now: () => number = Date.now,
  ) {}

  /** Requests yesterday's Copilot KB export; true when the vendor accepted it. */
  async export(): Promise<boolean> {
    const day = new Date(this.now() - 86_400_000).toISOString().slice(0, 10);
    const res = await fetch(
      `${this.sim.apiBase}/observabilitydashboard/v2/tables/Copilot/KBTable/export-data`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await this.token()}`,
          'content-type': 'application/json',
          'x-sim-client': 'outsider',
        },
        body: JSON.stringify({
          dateRange: { startDate: `${day}T00:00:00.000Z`, endDate: `${day}T23:59:59.999Z` },
          timeZone: 'UTC',
        }),
      },
    );
    await res.arrayBuffer();
    return res.status === 202 || res.status === 200;
  }

  private async token(): Promise<string> {
    if (this.#token) return this.#token;
    const c = this.sim.credentials;
    const res = await fetch(this.sim.authUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: c.clientId,
        client_secret: c.clientSecret,
        username: c.accessKey,
        password: c.accessSecret,
      }),
    });
    this.#token = ((await res.json()) as { access_token: string }).access_token;
    return this.#token;
  }
}
