import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options: { type: 'minor' }) => void;

let gc: Gc | null | undefined;

/**
 * Frees the buffers that the download's socket reads left behind, now rather than whenever V8
 * gets round to it.
 *
 * Every socket read (and every TLS record decrypted) is a new buffer, allocated outside the V8
 * heap and freed only when a young-generation collection finds it dead. A download makes almost
 * no garbage inside the heap, so no collection comes until the dead buffers reach V8's
 * external-memory threshold (32 MiB on Node 20, about 50 MiB on Node 24), and glibc keeps the
 * memory it handed out for them: the benchmark's peak RSS carried 30-80 MB of them for the rest
 * of the sync. `downloadFile` calls this every 4 MiB, so that a few MiB of dead buffers at most
 * are ever waiting, for about a millisecond per call.
 *
 * The collector is reached as jest's leak detector (jest-leak-detector) reaches it, without
 * `--expose-gc` on the command line: the flag is set for a moment at run time, and a new context
 * made meanwhile exposes `gc`. Where that fails, this does nothing and V8 collects on its own
 * schedule, as before.
 */
export function releaseReadBuffers(): void {
  if (gc === undefined) gc = findGc();
  gc?.({ type: 'minor' });
}

function findGc(): Gc | null {
  const exposed: unknown = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return exposed as Gc;
  try {
    setFlagsFromString('--expose-gc');
    const found: unknown = runInNewContext('gc');
    return typeof found === 'function' ? (found as Gc) : null;
  } catch {
    return null;
  } finally {
    // Contexts made later (a test runner's, say) do not get it.
    setFlagsFromString('--no-expose-gc');
  }
}
