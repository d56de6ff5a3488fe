import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

/**
 * A PostgreSQL wire-protocol server in front of one PGlite database, for tests on machines with
 * neither a PostgreSQL server nor Docker. PGlite is a single session, so a connection holds it
 * exclusively from its first message until the backend reports ReadyForQuery with status idle
 * ('I'): whole statements and whole transactions never interleave, even across processes.
 * (pglite-socket multiplexes message by message outside transactions, which mixes two clients'
 * unnamed prepared statements: "portal does not exist".) A connection that drops inside a
 * transaction is rolled back. COPY FROM STDIN is not available.
 */
export async function startPgliteServer(db: PGlite): Promise<{ url: string; close(): Promise<void> }> {
  let tail: Promise<void> = Promise.resolve();
  const sockets = new Set<Socket>();

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    // One write per backend message: with Nagle's algorithm the second small write of an answer
    // waits for the client's delayed ACK, about 40 ms a round trip.
    socket.setNoDelay(true);
    let buffer = Buffer.alloc(0);
    let release: (() => void) | undefined;
    let started = false;
    let chain: Promise<void> = Promise.resolve();

    const acquire = async () => {
      if (release) return;
      let r!: () => void;
      const held = new Promise<void>((res) => {
        r = res;
      });
      const prev = tail;
      tail = prev.then(() => held);
      await prev;
      release = () => {
        release = undefined;
        r();
      };
    };

    const handle = async (message: Buffer) => {
      await acquire();
      const out = await db.execProtocolRaw(new Uint8Array(message));
      if (!socket.destroyed && out.length) socket.write(Buffer.from(out));
      const n = out.length;
      // ReadyForQuery: 'Z', int32 5, status byte. Idle ('I') ends this connection's turn.
      if (n >= 6 && out[n - 6] === 0x5a && out[n - 1] === 0x49) release?.();
    };

    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (!started) {
          if (buffer.length < 8) return;
          const len = buffer.readInt32BE(0);
          const code = buffer.readInt32BE(4);
          if (code === 80877103 || code === 80877104) {
            // SSLRequest or GSSENCRequest: not supported, answer 'N'.
            buffer = buffer.subarray(8);
            socket.write('N');
            continue;
          }
          if (buffer.length < len) return;
          const msg = buffer.subarray(0, len);
          buffer = buffer.subarray(len);
          started = true;
          chain = chain.then(() => handle(msg));
          continue;
        }
        if (buffer.length < 5) return;
        const len = 1 + buffer.readInt32BE(1);
        if (buffer.length < len) return;
        const msg = buffer.subarray(0, len);
        buffer = buffer.subarray(len);
        if (msg[0] === 0x58) {
          // Terminate
          socket.end();
          return;
        }
        chain = chain
          .then(() => handle(msg))
          .catch(() => {
            socket.destroy();
          });
      }
    });
    socket.on('close', () => {
      sockets.delete(socket);
      chain = chain.then(async () => {
        if (release) {
          if (db.isInTransaction()) await db.exec('rollback').catch(() => {});
          release();
        }
      });
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
