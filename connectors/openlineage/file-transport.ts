import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LineageTransport } from './lineage-transport.js';

/**
 * OpenLineage's file transport: every event appended to one file as one JSON line, in the order
 * they are sent (the writes are queued). The file's directory is created when missing.
 */
export class FileTransport implements LineageTransport {
  #tail: Promise<unknown> = Promise.resolve();
  #dirReady: Promise<unknown> | undefined;

  constructor(readonly target: string) {}

  send(event: string, signal: AbortSignal): Promise<void> {
    const write = this.#tail.then(async () => {
      signal.throwIfAborted();
      this.#dirReady ??= mkdir(dirname(this.target), { recursive: true });
      await this.#dirReady;
      await appendFile(this.target, `${event}\n`, 'utf8');
    });
    this.#tail = write.catch(() => {});
    return write;
  }

  async close(): Promise<void> {
    await this.#tail;
  }
}
