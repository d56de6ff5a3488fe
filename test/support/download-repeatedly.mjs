// Downloads one URL `count` times through the built ExportClient.download, with libuv's thread
// pool (where file writes run) kept busy so that the file writes lag behind the socket and the
// write stream applies backpressure, as a slow disk does. Prints one JSON line per download (with the sha256 of the file written);
// exits 0 when every download returned. Run by test/unit/download-close.test.ts in a child
// process, so that a crash of the HTTP client shows as this process dying.
import { createHash, pbkdf2 } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ExportClient } from '../../dist/connectors/cxone/export-client.js';
import { TokenProvider } from '../../dist/connectors/cxone/token-provider.js';
import { silentLogger } from '../../dist/src/log/logger.js';

const [apiBase, authUrl, credentialsJson, downloadUrl, dir, count] = process.argv.slice(2);
const retry = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 };
const tokens = new TokenProvider(
  { authUrl, clientAuth: 'post', ...JSON.parse(credentialsJson) },
  silentLogger,
  retry,
);
const client = new ExportClient(
  tokens,
  { apiBase, allowedDownloadHosts: [], retry, timeoutMs: 10_000 },
  silentLogger,
);

let busy = true;
const keepBusy = async () => {
  while (busy) await new Promise((r) => pbkdf2('x', 'y', 5_000, 32, 'sha256', r));
};
const loops = Array.from({ length: 4 }, keepBusy);
try {
  for (let i = 0; i < Number(count); i++) {
    const dest = join(dir, `download-${i}.csv`);
    const result = await client.download(downloadUrl, dest);
    const fileSha256 = createHash('sha256')
      .update(await readFile(dest))
      .digest('hex');
    process.stdout.write(`${JSON.stringify({ ...result, fileSha256 })}\n`);
    await rm(dest);
  }
} finally {
  busy = false;
  await Promise.all(loops);
}
