import { DownloadHostRefusedError } from '../../src/errors.js';
import { safeUrl } from '../../src/log/redact.js';

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

function hostMatches(hostname: string, pattern: string): boolean {
  const h = hostname.toLowerCase();
  const p = pattern.toLowerCase().trim();
  if (p.startsWith('*.')) {
    const suffix = p.slice(1);
    return h.endsWith(suffix) || h === p.slice(2);
  }
  return h === p;
}

/**
 * Checks a download URL (and every redirect) against the download rules (docs/contract.md, "The vendor API"): https on an allowed host;
 * plain http and loopback hosts only when the API base itself is on loopback (the simulator).
 */
export function assertDownloadAllowed(
  url: URL,
  allowedHosts: readonly string[],
  apiBase: URL,
  allowInsecure = false,
): void {
  const apiOnLoopback = isLoopbackHost(apiBase.hostname);
  if (url.protocol !== 'https:' && !((apiOnLoopback || allowInsecure) && url.protocol === 'http:')) {
    throw new DownloadHostRefusedError(`download URL ${safeUrl(url)} is not https; refused`);
  }
  if (isLoopbackHost(url.hostname)) {
    if (apiOnLoopback) return;
    throw new DownloadHostRefusedError(`download URL ${safeUrl(url)} points at a loopback host; refused`);
  }
  if (!allowedHosts.some((p) => hostMatches(url.hostname, p))) {
    throw new DownloadHostRefusedError(
      `download host ${url.hostname} is not in account.allowedDownloadHosts (${allowedHosts.join(', ')}); add it there if it is the vendor's storage`,
    );
  }
}
