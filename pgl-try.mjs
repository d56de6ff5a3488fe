import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { PostgresDestination } from './dist/connectors/postgres/postgres-destination.js';
import { autopilotGr } from './dist/schemas/autopilot-gr.js';

const db = await PGlite.create();
const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 8 });
await server.start();
const url = `postgres://postgres@${server.getServerConn()}/postgres`;
const d = new PostgresDestination({ url, schema: 'cxone', sharesStateDatabase: true, copy: false });
await d.prepare(autopilotGr, []);
async function* rows() {
  yield { values: [new Date(), 'c1', 'Chat', 'q', 'a', 'Used', 'k', 'cat', 0.5, null, true], line: 2 };
}
try {
  const r = await d.load({
    schema: autopilotGr,
    columns: autopilotGr.columns,
    exportKey: 'e1',
    window: { start: new Date(0), end: new Date(Date.now() + 1e6) },
    loadedAt: new Date(),
    rows: rows(),
    beforeCommit: async () => [],
  });
  console.log('loaded', r);
} catch (e) {
  console.log('ERR', e.message);
}
process.exit(0);
