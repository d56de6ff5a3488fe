import type { Logger } from '../../src/log/logger.js';
import { redact } from '../../src/log/redact.js';
import type { LoadObserver, LoadRun, LoadRunResult, LoadRunStart } from '../../src/ports/lineage.js';
import type { LineageTransport } from './lineage-transport.js';
import { type Producer, type RunEventType, runEvent } from './openlineage-event.js';
import { uuidV7 } from './uuid-v7.js';

export interface OpenLineageSinkOptions {
  readonly producer: Producer;
  readonly transports: readonly LineageTransport[];
  /** The most one event may take; also the most `close` waits for what is still pending. */
  readonly timeoutMs: number;
  readonly log: Logger;
  /** The clock of event times and run ids (tests pass a fixed one). */
  readonly now?: () => Date;
}

/**
 * Sends one OpenLineage run per load: START when it begins, COMPLETE or FAIL when it ends. The
 * engine's calls return at once; the events go out in the background, each run's in order (its
 * end after its start has been delivered or given up), each bounded by `timeoutMs`, never sent
 * twice. A backend that refuses, fails or never answers costs a warning, not the sync: `close`
 * waits at most `timeoutMs` for what is still in flight, then abandons it. Every event passes
 * through the redactor before it leaves the process.
 */
export class OpenLineageSink implements LoadObserver {
  readonly #pending = new Set<Promise<void>>();
  readonly #stop = new AbortController();
  readonly #now: () => Date;
  #sent = 0;
  #failed = 0;
  readonly #warned = new Set<LineageTransport>();
  #closed = false;

  constructor(private readonly options: OpenLineageSinkOptions) {
    this.#now = options.now ?? (() => new Date());
  }

  loadStarted(load: LoadRunStart): LoadRun {
    const startedAt = this.#now();
    const runId = uuidV7(startedAt.getTime());
    const event = (type: RunEventType, end: { result?: LoadRunResult; error?: string } = {}) =>
      runEvent(this.options.producer, { type, runId, eventTime: this.#now(), load, ...end });
    const started = this.#emit(event('START'));
    return {
      completed: (result) => {
        this.#emit(event('COMPLETE', { result }), started);
      },
      failed: (error) => {
        this.#emit(event('FAIL', { error }), started);
      },
    };
  }

  /** Queues one event (after `after`, when given); the returned promise never rejects. */
  #emit(event: Record<string, unknown>, after?: Promise<void>): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const line = redact(JSON.stringify(event));
    const delivery = (after ?? Promise.resolve()).then(() =>
      Promise.all(this.options.transports.map((t) => this.#deliver(t, line))).then(() => {}),
    );
    this.#pending.add(delivery);
    delivery.finally(() => this.#pending.delete(delivery)).catch(() => {});
    return delivery;
  }

  async #deliver(transport: LineageTransport, line: string): Promise<void> {
    if (this.#stop.signal.aborted) {
      this.#failed++;
      return;
    }
    try {
      const timeout = AbortSignal.timeout(this.options.timeoutMs);
      await transport.send(line, AbortSignal.any([this.#stop.signal, timeout]));
      this.#sent++;
    } catch (err) {
      this.#failed++;
      const fields = { target: transport.target, error: describe(err, this.options.timeoutMs) };
      if (this.#warned.has(transport)) {
        this.options.log.debug('lineage event not delivered', fields);
      } else {
        this.#warned.add(transport);
        this.options.log.warn('lineage event not delivered; the sync goes on without it', fields);
      }
    }
  }

  /**
   * Waits up to `timeoutMs` for the events in flight, then abandons the rest and releases the
   * transports. Events of runs still open are not sent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.timeoutMs);
    });
    await Promise.race([Promise.allSettled([...this.#pending]), deadline]);
    clearTimeout(timer);
    this.#stop.abort();
    await Promise.allSettled([...this.#pending]);
    await Promise.allSettled(this.options.transports.map((t) => t.close()));
    if (this.#failed > 0)
      this.options.log.warn('lineage events not delivered', { delivered: this.#sent, failed: this.#failed });
    else if (this.#sent > 0) this.options.log.debug('lineage events delivered', { delivered: this.#sent });
  }
}

function describe(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
    return `no answer within ${timeoutMs} ms (lineage.timeoutMs)`;
  const e = err as { message?: string; code?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code;
  return `${e.message ?? String(err)}${code && !e.message?.includes(code) ? ` (${code})` : ''}`;
}
