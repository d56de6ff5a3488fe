import { describe, expect, it } from 'vitest';
import { parseExportStatus } from '../../connectors/cxone/status-parser.js';
import { ExportFailedError } from '../../src/errors.js';

const parse = (body: unknown) => parseExportStatus(body, JSON.stringify(body));

describe('parseExportStatus', () => {
  it('accepts the status under any documented key, case-insensitively', () => {
    expect(parse({ status: 'Pending' }).state).toBe('pending');
    expect(parse({ State: 'InProgress' }).state).toBe('pending');
    expect(parse({ exportStatus: 'QUEUED' }).state).toBe('pending');
    expect(parse({ jobStatus: { status: 'RUNNING' } }).state).toBe('pending');
  });

  it('finds the download URL under any documented key', () => {
    const url = 'https://files.example.com/x.csv?sig=1';
    for (const body of [
      { status: 'Completed', downloadUrl: url },
      { status: 'Succeeded', downloadURL: url },
      { state: 'Finished', resultFileURL: url },
      { status: 'done', fileUrl: url },
      { status: 'Ready', location: url },
      { jobStatus: { status: 'SUCCEEDED', result: { url } } },
    ]) {
      const s = parse(body);
      expect(s.state, JSON.stringify(body)).toBe('done');
      expect(s.downloadUrl).toBe(url);
    }
  });

  it('reports failure states with their message', () => {
    const s = parse({ jobStatus: { status: 'FAILED', result: { errorMessage: 'boom' } } });
    expect(s.state).toBe('failed');
    for (const v of ['Error', 'Cancelled', 'Expired']) expect(parse({ status: v }).state).toBe('failed');
  });

  it('refuses an unrecognised body, quoting it without secrets', () => {
    expect(() => parse({ weird: true })).toThrow(ExportFailedError);
    expect(() => parse({ status: 'Sleeping' })).toThrow(/unrecognised export status "Sleeping"/);
    expect(() => parse({ status: 'Completed' })).toThrow(/no download URL/);
    const signed = () => parse({ odd: 'https://h.example.com/f.csv?X-Amz-Signature=abc' });
    expect(signed).toThrow(ExportFailedError);
    expect(signed).not.toThrow(/X-Amz-Signature=abc/);
  });
});
