import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm, stat, statfs } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { LocalStorageError, localStorageCode } from '../errors.js';
import type { ExportRecord } from '../ports/export-record.js';

/**
 * Proves that `archive.dir` can take a file before anything is spent on one (`check`, and `sync`
 * before it reserves a quota slot): creates the directory when missing, writes, fsyncs and
 * deletes a probe file, and reads the free space. Returns the free bytes; throws a
 * {@link LocalStorageError} naming `archive.dir` and the fix.
 */
export async function checkArchiveDir(dir: string, minFreeMB: number): Promise<{ freeBytes: number }> {
  const where = resolve(dir);
  const fail = (what: string, err: unknown): never => {
    const code = localStorageCode(err) ?? (err as { code?: string }).code;
    throw new LocalStorageError(
      `archive.dir ${where} ${what}: ${(err as Error).message}; ${LocalStorageError.advice(code)}`,
      code,
      { cause: err },
    );
  };
  try {
    await mkdir(where, { recursive: true });
  } catch (err) {
    fail('cannot be created', err);
  }
  const probe = join(where, `.write-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const handle = await open(probe, 'w');
    try {
      await handle.write(Buffer.alloc(4096, 0x2c));
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    await rm(probe, { force: true }).catch(() => {});
    fail('is not writable', err);
  }
  await rm(probe, { force: true });
  const fs = await statfs(where);
  const freeBytes = Number(fs.bavail) * Number(fs.bsize);
  if (freeBytes < minFreeMB * 1_048_576) {
    throw new LocalStorageError(
      `archive.dir ${where} has ${Math.floor(freeBytes / 1_048_576)} MB free, below archive.minFreeMB ${minFreeMB}; free space on that disk (or move archive.dir)`,
      'ENOSPC',
    );
  }
  return { freeBytes };
}

/** Why an archived file cannot be trusted, or null when it is the file the ledger recorded. */
export async function archivedFileProblem(
  record: Pick<ExportRecord, 'ledgerId' | 'archivePath' | 'bytes' | 'sha256'>,
): Promise<string | null> {
  const { archivePath: path, ledgerId } = record;
  if (!path) return `export ${ledgerId} has no archived file`;
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    return `the archived file ${path} of export ${ledgerId} cannot be read (${(err as { code?: string }).code ?? (err as Error).message})`;
  }
  if (record.bytes !== null && size !== record.bytes)
    return `the archived file ${path} of export ${ledgerId} has ${size} bytes, the ledger recorded ${record.bytes}`;
  if (record.sha256) {
    const h = createHash('sha256');
    await pipeline(createReadStream(path), h);
    const digest = h.digest('hex');
    if (digest !== record.sha256)
      return `the archived file ${path} of export ${ledgerId} has sha256 ${digest}, the ledger recorded ${record.sha256}`;
  }
  return null;
}
