/**
 * Secret redaction. Every value registered here (client secret, access secret, tokens) is
 * replaced wherever it appears in text that leaves the process: log lines, error messages, JSON
 * output and state rows. URL query strings are removed too, since signed download URLs carry
 * their signature there.
 */

const secrets = new Set<string>();

export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 4) {
    secrets.add(value);
    // The form-encoded and URI-encoded spellings leak just as well.
    secrets.add(encodeURIComponent(value));
    secrets.add(new URLSearchParams({ v: value }).toString().slice(2));
  }
}

const urlWithQuery = /\b(https?:\/\/[^\s"'?#<>]+)\?[^\s"'<>]*/gi;
const bearer = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/g;

export function redact(text: string): string {
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('[REDACTED]');
  }
  return out.replace(bearer, '$1 [REDACTED]').replace(urlWithQuery, '$1?[REDACTED]');
}

/** A URL safe to log or store: origin and path, no query string or fragment. */
export function safeUrl(url: string | URL): string {
  try {
    const u = typeof url === 'string' ? new URL(url) : url;
    return `${u.origin}${u.pathname}${u.search ? '?[REDACTED]' : ''}`;
  } catch {
    return redact(String(url));
  }
}
