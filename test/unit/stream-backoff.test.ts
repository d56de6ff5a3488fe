import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load-config.js';
import {
  ApiError,
  AuthError,
  ExportFailedError,
  ExportRefusedError,
  HorizonError,
  QuotaExhaustedError,
  RequestNotTakenError,
  VendorExportFailedError,
} from '../../src/errors.js';
import {
  backoffInForce,
  backoffsInForce,
  nextStreamAttempt,
  requestKey,
  sharingStreams,
  streamBackoffNote,
  streamFailureReason,
} from '../../src/plan/stream-backoff.js';
import type { StreamBackoff } from '../../src/ports/state-ports.js';

const h = 3_600_000;
const now = new Date('2026-12-01T12:00:00Z');
const account = {
  apiBase: 'https://api-na1.niceincontact.com',
  clientId: 'id',
  clientSecret: 'secret',
  accessKey: 'key',
  accessSecret: 'access',
};
const destination = { type: 'postgres', url: 'postgres://u@h/db' };
const config = (streams: Record<string, unknown> = {}) =>
  resolveConfig({ account, destination, streams }, {}).accounts[0]!;

const row = (over: Partial<StreamBackoff>): StreamBackoff => ({
  account: 'a',
  stream: 'autopilot_gr',
  reason: 'not_exposed',
  failures: 1,
  firstFailedAt: now,
  lastFailedAt: now,
  nextAttemptAt: new Date(now.getTime() + 24 * h),
  error: 'export request answered HTTP 403: Forbidden',
  requestKey: '',
  ...over,
});

describe('stream backoff', () => {
  it('tells a table the tenant does not have (403, 404) from another refusal and from a failed export', () => {
    expect(streamFailureReason(new ExportRefusedError('x', 403))).toBe('not_exposed');
    expect(streamFailureReason(new ExportRefusedError('x', 404))).toBe('not_exposed');
    expect(streamFailureReason(new ExportRefusedError('x', 400))).toBe('refused');
    expect(streamFailureReason(new ExportRefusedError('x', 422))).toBe('refused');
    expect(
      streamFailureReason(
        new ExportRefusedError('export request answered HTTP 400: Table GRTable is not available', 400),
      ),
    ).toBe('not_exposed');
    // A filter value the API does not know is the stream's setting, not a missing table.
    expect(
      streamFailureReason(new ExportRefusedError('export request answered HTTP 400: Team B not found', 400)),
    ).toBe('refused');
    expect(streamFailureReason(new VendorExportFailedError('x'))).toBe('vendor_failed');
    // Not the stream's fault: the quota, the API being down, a status body we could not read.
    expect(streamFailureReason(new QuotaExhaustedError(null))).toBeUndefined();
    expect(streamFailureReason(new RequestNotTakenError('x', 503))).toBeUndefined();
    expect(streamFailureReason(new ApiError('x', 502))).toBeUndefined();
    expect(streamFailureReason(new ExportFailedError('x'))).toBeUndefined();
  });

  it("backs off a 401 only when the account's other streams work, and never for one window's refusal", () => {
    const denied = new AuthError('the API refused a fresh token (HTTP 401)');
    expect(streamFailureReason(denied, { otherStreamsWork: true })).toBe('not_exposed');
    // Every table answers 401: the key, not the table; every run fails as it should.
    expect(streamFailureReason(denied, { otherStreamsWork: false })).toBeUndefined();
    // The 4-month rule, and a 4xx of an explicit window, are that window's.
    expect(streamFailureReason(new HorizonError('x'))).toBeUndefined();
    expect(streamFailureReason(new ExportRefusedError('x', 400), { explicitWindow: true })).toBeUndefined();
    expect(streamFailureReason(new ExportRefusedError('x', 403), { explicitWindow: true })).toBe(
      'not_exposed',
    );
  });

  it('asks a table not exposed once a day, backs a refusal off from an hour and a failing stream from 12 h, at most a day', () => {
    const hoursAfter = (reason: Parameters<typeof nextStreamAttempt>[0], n: number) =>
      (nextStreamAttempt(reason, n, now).getTime() - now.getTime()) / h;
    expect([1, 2, 5].map((n) => hoursAfter('not_exposed', n))).toEqual([24, 24, 24]);
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => hoursAfter('refused', n))).toEqual([1, 2, 4, 8, 16, 24, 24]);
    expect([1, 2, 3].map((n) => hoursAfter('vendor_failed', n))).toEqual([12, 24, 24]);
  });

  it('holds only while the request settings are the ones it was seen with, and until it ends', () => {
    const gr = config({ autopilot_gr: {} }).streams[0]!;
    const seen = row({ requestKey: requestKey(gr) });
    expect(backoffInForce(seen, gr, now)).toBe(seen);
    expect(backoffInForce(seen, gr, new Date(now.getTime() + 25 * h))).toBeUndefined();
    const renamed = config({ autopilot_gr: { path: 'autopilot/GRTable' } }).streams[0]!;
    expect(backoffInForce(seen, renamed, now)).toBeUndefined();
    const kb = config({ copilot_kb: { filters: { Team: ['A'] } } }).streams[0]!;
    const kbSeen = row({ stream: 'copilot_kb', reason: 'refused', requestKey: requestKey(kb) });
    const kbFixed = config({ copilot_kb: { filters: { Team: ['B'] } } }).streams[0]!;
    expect(backoffInForce(kbSeen, kbFixed, now)).toBeUndefined();
    // The weight or the lookback are not part of the request: the backoff stays.
    const kbWeighted = config({ copilot_kb: { filters: { Team: ['A'] }, weight: 2, lookback: '2d' } })
      .streams[0]!;
    expect(backoffInForce(kbSeen, kbWeighted, now)).toBe(kbSeen);
  });

  it('leaves a stream the API refuses out of the fair share, but not one whose exports fail at the vendor', () => {
    const c = config({ copilot_kb: {}, copilot_aq: {}, autopilot_gr: {} });
    const rows = new Map([
      ['autopilot_gr', row({ requestKey: requestKey(c.streams[2]!) })],
      [
        'copilot_aq',
        row({ stream: 'copilot_aq', reason: 'vendor_failed', requestKey: requestKey(c.streams[1]!) }),
      ],
    ]);
    const inForce = backoffsInForce(c.streams, rows, now);
    expect([...inForce.keys()].sort()).toEqual(['autopilot_gr', 'copilot_aq']);
    expect(sharingStreams(c.streams, inForce).map((s) => s.schema.name)).toEqual([
      'copilot_kb',
      'copilot_aq',
    ]);
  });

  it('says in plain words that the tenant does not have the table, and how to get out', () => {
    const gr = config({ autopilot_gr: {} }).streams[0]!;
    const note = streamBackoffNote(row({}), gr);
    expect(note).toMatch(/does not expose AutopilotKnowledge\/GRTable to this tenant/);
    expect(note).toMatch(/asked again once a day/);
    expect(note).toMatch(/streams\.autopilot_gr\.enabled: false/);
    expect(note).toMatch(/streams\.autopilot_gr\.path: autopilot\/GRTable/);
    expect(note).toMatch(/unblock --stream autopilot_gr/);
  });
});
