import { describe, expect, it } from 'vitest';
import { assertDownloadAllowed } from '../../connectors/cxone/download-policy.js';
import { exportIdFrom } from '../../connectors/cxone/export-client.js';
import { DownloadError } from '../../src/errors.js';

const allowed = ['api-na1.niceincontact.com', '*.niceincontact.com', '*.amazonaws.com'];
const api = new URL('https://api-na1.niceincontact.com');
const check =
  (u: string, base = api) =>
  () =>
    assertDownloadAllowed(new URL(u), allowed, base);

describe('download policy', () => {
  it('accepts https on allowed hosts and wildcard subdomains', () => {
    expect(check('https://bucket.s3.us-east-1.amazonaws.com/x.csv?sig=1')).not.toThrow();
    expect(check('https://files.niceincontact.com/x.csv')).not.toThrow();
  });

  it('refuses plain http, other hosts and loopback when the API is not on loopback', () => {
    expect(check('http://bucket.s3.amazonaws.com/x.csv')).toThrow(/not https/);
    expect(check('https://evil.example.com/x.csv')).toThrow(/allowedDownloadHosts/);
    expect(check('https://amazonaws.com.evil.example/x.csv')).toThrow(DownloadError);
    expect(check('https://127.0.0.1/x.csv')).toThrow(/loopback/);
  });

  it('accepts http and loopback only when the API base itself is on loopback (the simulator)', () => {
    expect(check('http://127.0.0.1:9000/files/x.csv', new URL('http://127.0.0.1:8080'))).not.toThrow();
    expect(check('http://[::1]:9000/x.csv', new URL('http://localhost:8080'))).not.toThrow();
  });

  it('never echoes a signed query string in its messages', () => {
    const signed = check('https://evil.example.com/x.csv?X-Amz-Signature=secret123');
    expect(signed).toThrow(/allowedDownloadHosts/);
    expect(signed).not.toThrow(/secret123/);
  });
});

describe('exportIdFrom', () => {
  it('takes the export id from an absolute or relative Location, or a JSON body', () => {
    expect(
      exportIdFrom('https://api/observabilitydashboard/v2/tables/export-data/abc-123/status?fileName=f', ''),
    ).toBe('abc-123');
    expect(exportIdFrom('/observabilitydashboard/v2/tables/export-data/x%2Fy/status', '')).toBe('x/y');
    expect(exportIdFrom('/exports/987', '')).toBe('987');
    expect(exportIdFrom(undefined, '{"exportId":"e-1"}')).toBe('e-1');
    expect(exportIdFrom(undefined, '')).toBeUndefined();
  });
});
