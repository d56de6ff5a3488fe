/** Where events go: one JSON document per call, in the order the calls are made for one run. */
export interface LineageTransport {
  /** For logs: where it sends, without credentials or query. */
  readonly target: string;
  /** Sends one event; rejects when it was not delivered. Stops when `signal` aborts. */
  send(event: string, signal: AbortSignal): Promise<void>;
  /** Releases what it holds (sockets, a file handle); in-flight sends are abandoned. */
  close(): Promise<void>;
}
