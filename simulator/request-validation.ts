import { DateTime, IANAZone } from 'luxon';
import { findStreamSchema } from '../schemas/index.js';

/** The documented 400 for a start date past the 4-month horizon. */
export const horizonMessage = 'Export date range cannot be more than 4 months ago without authorization';
/** The documented 400 for a fourth export within 24 hours. */
export const quotaMessage =
  'Too many export requests. The limit is 3 exports per 24 hours for non-Observability Dashboard users';

/** The five export paths (GR under both of its documented spellings) and the stream each serves. */
const tablePaths = new Map<string, string>([
  ['Copilot/KBTable', 'copilot_kb'],
  ['Copilot/ASTable', 'copilot_as'],
  ['Copilot/AQTable', 'copilot_aq'],
  ['AutopilotKnowledge/GRTable', 'autopilot_gr'],
  ['autopilot/GRTable', 'autopilot_gr'],
]);

/** The stream a table path exports, or undefined for a path the API does not know. */
export function streamOfTable(tablePath: string): string | undefined {
  return tablePaths.get(tablePath);
}

/** A request body that passed validation, with the fields the export keeps. */
export interface ValidExportRequest {
  startDate: string;
  endDate: string;
  timeZone: string;
  body: Record<string, unknown>;
}

export type ExportRequestCheck = { ok: true; request: ValidExportRequest } | { ok: false; message: string };

/** What the horizon and quota checks need to know about the simulator's clock and history. */
export interface ExportLimits {
  now: number;
  quota: number;
  /** Exports accepted within the 24 hours before `now`. */
  recentExports: number;
}

const isoDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Checks an export request body against its table's accepted fields (dateRange and timeZone
 * always; channels and filters where the stream accepts them), then the 4-month horizon and the
 * 24-hour quota. A failure is always a 400; its message is the first problem found.
 */
export function checkExportRequest(
  stream: string,
  tablePath: string,
  text: string,
  limits: ExportLimits,
): ExportRequestCheck {
  const reject = (message: string): ExportRequestCheck => ({ ok: false, message });
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return reject('Request body must be JSON');
  }
  const schema = findStreamSchema(stream)!;
  const allowedKeys = [
    'dateRange',
    'timeZone',
    ...(schema.accepts.channels ? ['channels'] : []),
    ...(schema.accepts.filters.length ? ['filters'] : []),
  ];
  for (const k of Object.keys(body))
    if (!allowedKeys.includes(k)) return reject(`Unexpected field ${k} for ${tablePath}`);
  const range = body.dateRange as { startDate?: unknown; endDate?: unknown } | undefined;
  if (!range || typeof range.startDate !== 'string' || typeof range.endDate !== 'string') {
    return reject('dateRange.startDate and dateRange.endDate are required');
  }
  if (!isoDateTime.test(range.startDate) || !isoDateTime.test(range.endDate))
    return reject('dateRange values must be ISO 8601 date-times');
  const start = Date.parse(range.startDate);
  const end = Date.parse(range.endDate);
  if (!(start <= end)) return reject('dateRange.startDate must not be after endDate');
  if (typeof body.timeZone !== 'string' || !IANAZone.isValidZone(body.timeZone))
    return reject('timeZone is required and must be an IANA time zone');
  if (body.channels !== undefined) {
    if (!Array.isArray(body.channels) || body.channels.some((c) => c !== 'digital' && c !== 'voice')) {
      return reject('channels must be an array of digital, voice');
    }
  }
  if (body.filters !== undefined) {
    const f = body.filters as Record<string, unknown>;
    if (typeof f !== 'object' || f === null || Array.isArray(f)) return reject('filters must be an object');
    for (const [k, v] of Object.entries(f)) {
      if (!schema.accepts.filters.includes(k)) return reject(`Unexpected filter ${k} for ${tablePath}`);
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
        return reject(`filters.${k} must be an array of strings`);
    }
  }
  const horizon = DateTime.fromMillis(limits.now, { zone: 'utc' }).minus({ months: 4 }).toMillis();
  if (start < horizon) return reject(horizonMessage);
  if (limits.recentExports >= limits.quota) return reject(quotaMessage);
  return {
    ok: true,
    request: { startDate: range.startDate, endDate: range.endDate, timeZone: body.timeZone, body },
  };
}
