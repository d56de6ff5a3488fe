import { describe, expect, it } from 'vitest';
import { redact, registerSecret, safeUrl } from '../../src/log/redact.js';

describe('redact', () => {
  it('removes registered secrets in plain and encoded spellings', () => {
    registerSecret('s3cr=t/value');
    expect(redact('a s3cr=t/value b')).toBe('a [REDACTED] b');
    expect(redact(`x=${encodeURIComponent('s3cr=t/value')}`)).toBe('x=[REDACTED]');
  });

  it('removes bearer tokens and URL query strings', () => {
    expect(redact('Authorization: Bearer abc.def-ghi')).toBe('Authorization: Bearer [REDACTED]');
    expect(redact('GET https://b.s3.amazonaws.com/f.csv?X-Amz-Signature=zz&e=1 done')).toBe(
      'GET https://b.s3.amazonaws.com/f.csv?[REDACTED] done',
    );
    expect(safeUrl('https://h.example.com/p/f.csv?sig=1#x')).toBe('https://h.example.com/p/f.csv?[REDACTED]');
  });
});
