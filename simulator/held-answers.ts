import type { ServerResponse } from 'node:http';
import type { SimulatorStats } from './simulator-state.js';

/**
 * Answers of export requests held back by the `holdExportRequests` fault, each with the function
 * that writes it. `stats.heldExportRequests` always shows how many are waiting; a client that
 * gives up (its connection closes) drops out of the count.
 */
export class HeldAnswers {
  readonly #waiting = new Map<ServerResponse, () => void>();

  constructor(private readonly stats: SimulatorStats) {}

  /** Keeps `answer` until a release (or the connection closes). */
  hold(res: ServerResponse, answer: () => void): void {
    this.#waiting.set(res, answer);
    this.#count();
    res.once('close', () => {
      if (this.#waiting.delete(res)) this.#count();
    });
  }

  /** Writes every held answer, in arrival order; returns how many were released. */
  releaseAll(): number {
    const held = [...this.#waiting];
    this.#waiting.clear();
    this.#count();
    for (const [res, answer] of held) if (!res.destroyed) answer();
    return held.length;
  }

  /** Destroys the connections of every held answer (the simulator is closing). */
  destroyAll(): void {
    const held = [...this.#waiting.keys()];
    this.#waiting.clear();
    this.#count();
    for (const res of held) res.destroy();
  }

  #count(): void {
    this.stats.heldExportRequests = this.#waiting.size;
  }
}
