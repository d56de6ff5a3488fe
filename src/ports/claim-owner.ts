import { hostname } from 'node:os';

/**
 * What one process calls itself when it claims an export: host, pid and a random part (a pid
 * can be reused). Read it with {@link claimOwnerParts}.
 */
export function processOwner(): string {
  return `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
}

/** The host and pid of a claim's owner. */
export function claimOwnerParts(owner: string): { host: string; pid: string | undefined } {
  const [host = '', pid] = owner.split(':');
  return { host, pid };
}

/** The host of the process holding an export's claim, to tell the user where it runs; null when unclaimed. */
export function claimHost(record: { readonly claimedBy: string | null }): string | null {
  return record.claimedBy === null ? null : claimOwnerParts(record.claimedBy).host;
}
