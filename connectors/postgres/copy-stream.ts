import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { TypedBatch } from '../../src/parse/typed-batch.js';

/** Where an encoder stopped: the next row of the batch, the position in the buffer, the room the next row needs. */
export interface EncodeProgress {
  readonly next: number;
  readonly pos: number;
  readonly need: number;
}

export interface CopyEncoder {
  encodeInto(tb: TypedBatch, from: number, out: Buffer, pos: number): EncodeProgress;
}

/** Copies `buf[s, e)` into `out` at `pos`; a loop beats `Buffer#copy` for the short fields of a CSV. */
export function copyBytes(buf: Buffer, s: number, e: number, out: Buffer, pos: number): number {
  if (e - s > 48) return pos + buf.copy(out, pos, s, e);
  for (let p = s; p < e; p++) out[pos++] = buf[p] as number;
  return pos;
}

const bufferBytes = 256 * 1024;
/**
 * Chunks sent before the end are at least this large: above any socket's high-water mark (16 KiB
 * on Node 20, 64 KiB on 22), so that `socket.write` returns false for them.
 */
const minSendBytes = 128 * 1024;

/**
 * Feeds a COPY stream from typed batches through two buffers that take turns: one is encoded
 * while the other is being written, and nothing is allocated per chunk, so memory stays flat.
 * A buffer is reused only after the next write has called back. pg-copy-streams calls a write
 * back at once when `socket.write` returns true, and after `drain` (the socket's queue empty)
 * when it returns false; every chunk but the last is larger than the socket's high-water mark,
 * so it returns false, and the callback means the socket holds none of our bytes any more.
 * Returns the number of rows sent.
 */
export async function feedCopy(
  copy: Writable,
  encoder: CopyEncoder,
  batches: AsyncIterable<TypedBatch>,
  frame: { header?: Buffer; trailer?: Buffer } = {},
): Promise<number> {
  // The server's refusal (a constraint, a type, a full disk), kept: a write after it would fail
  // with the stream's own TypeError and hide what the operator needs to read.
  let serverError: unknown;
  const failure = once(copy, 'error').then(([err]) => {
    serverError ??= err;
    throw err;
  });
  failure.catch(() => {});
  let inFlight: Promise<unknown> | undefined;
  const write = async (chunk: Buffer) => {
    // The other buffer is free once the write before this one has called back.
    if (inFlight) await Promise.race([inFlight, failure]);
    if (serverError !== undefined || copy.destroyed)
      throw serverError ?? new Error('the COPY stream was closed');
    inFlight = new Promise<void>((resolve, reject) => {
      copy.write(chunk, (err) => (err ? reject(err) : resolve()));
    });
    inFlight.catch(() => {});
  };
  const buffers = [Buffer.allocUnsafe(bufferBytes), Buffer.allocUnsafe(bufferBytes)];
  let cur = 0;
  let pos = 0;
  let rows = 0;
  const send = async () => {
    await write((buffers[cur] as Buffer).subarray(0, pos));
    cur ^= 1;
    pos = 0;
  };
  try {
    if (frame.header) await write(frame.header);
    for await (const tb of batches) {
      let from = 0;
      while (from < tb.count) {
        const p = encoder.encodeInto(tb, from, buffers[cur] as Buffer, pos);
        rows += p.next - from;
        from = p.next;
        pos = p.pos;
        if (from < tb.count) {
          if (pos >= minSendBytes) await send();
          else {
            // Rows too large for the rest of the buffer: a larger one, keeping what it holds.
            const old = buffers[cur] as Buffer;
            const grown = Buffer.allocUnsafe(Math.max(pos + p.need, 2 * old.length));
            old.copy(grown, 0, 0, pos);
            buffers[cur] = grown;
          }
        }
      }
    }
    if (pos > 0) await send();
    if (frame.trailer) await write(frame.trailer);
    if (inFlight) await Promise.race([inFlight, failure]);
    copy.end();
    await Promise.race([finished(copy), failure]);
    return rows;
  } catch (err) {
    // The server's own refusal, when it came first, is what is reported (not what the stream
    // said after it); an error of ours (a malformed file) is rethrown as it is.
    const refused = serverError;
    // Abort the COPY (the server gets CopyFail); the caller rolls the transaction back.
    copy.destroy(err as Error);
    await finished(copy).catch(() => {});
    throw refused ?? err;
  }
}
